/**
 * CSV positions: a header row naming the columns `id`, `x`, `y` and optionally
 * `z`, `modalities` (names separated by `;` or `|`) and `status`. Parsed with
 * csv-parse; every record keeps the line it started on.
 */
import { parse } from 'csv-parse/sync';
import type { InputIssue } from '../input-error.ts';
import type { RawNodeRecord } from './records.ts';

const COLUMNS = new Set(['id', 'x', 'y', 'z', 'modalities', 'status']);

export function parseCsv(
  text: string,
  file: string,
  issues: InputIssue[],
): Array<{ record: RawNodeRecord; line: number }> {
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    rows = parse(text, {
      info: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      comment: '#',
    }) as unknown as Array<{
      record: string[];
      info: { lines: number };
    }>;
  } catch (error) {
    const err = error as Error & { lines?: number };
    issues.push({ file, line: err.lines ?? 1, field: 'line', message: `not valid CSV: ${err.message}` });
    return [];
  }
  if (rows.length === 0) return [];
  const [header, ...body] = rows;
  const columns = header.record.map((c) => c.toLowerCase());
  const headerLine = header.info.lines;
  columns.forEach((c) => {
    if (!COLUMNS.has(c))
      issues.push({
        file,
        line: headerLine,
        field: c || '(empty)',
        message: `unknown column "${c}" (expected ${[...COLUMNS].join(', ')})`,
      });
  });
  for (const required of ['id', 'x', 'y']) {
    if (!columns.includes(required))
      issues.push({ file, line: headerLine, field: required, message: `header has no "${required}" column` });
  }
  if (issues.length > 0) return [];
  const out: Array<{ record: RawNodeRecord; line: number }> = [];
  for (const row of body) {
    const line = row.info.lines;
    if (row.record.length !== columns.length) {
      issues.push({
        file,
        line,
        field: 'line',
        message: `expected ${columns.length} columns, got ${row.record.length}`,
      });
      continue;
    }
    const record: Record<string, string> = {};
    columns.forEach((c, i) => {
      record[c] = row.record[i];
    });
    out.push({ record: record as RawNodeRecord, line });
  }
  return out;
}
