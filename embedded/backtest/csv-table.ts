/**
 * The backtest's CSV inputs (events, alerts of a clean run): a header row
 * naming the columns in any order and case, then one row per record.
 */
import { parse } from 'csv-parse/sync';
import { UserError } from '../../common/errors.ts';

export interface CsvTable {
  /** The rows after the header; the header is line 1, so row i is line i + 2. */
  rows: string[][];
  /** The index of a column by its lower-case name, -1 when the header lacks it. */
  column(name: string): number;
}

/**
 * Parses `text` (named `file` in errors) and checks that its header has every
 * `required` column. `invalid(line, message)` makes the error to throw at a
 * line; a file that is not CSV at all is a UserError with `code`.
 */
export function readCsvTable(
  text: string,
  file: string,
  required: readonly string[],
  code: string,
  invalid: (line: number, message: string) => UserError,
): CsvTable {
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  } catch (error) {
    throw new UserError(code, `${file}: ${(error as Error).message}`, 'Check the CSV quoting.');
  }
  if (rows.length === 0) throw invalid(1, `empty file (expected a header with ${required.join(',')})`);
  const header = rows[0].map((h) => h.toLowerCase());
  const missing = required.filter((name) => !header.includes(name));
  if (missing.length > 0) throw invalid(1, `the header lacks ${missing.join(', ')} (found ${rows[0].join(', ')})`);
  return { rows: rows.slice(1), column: (name) => header.indexOf(name) };
}
