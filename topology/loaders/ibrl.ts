/**
 * The IBRL position format (Intel Berkeley Research Lab `node.txt`): one node
 * per line, `id x y`, separated by whitespace. Blank lines and `#` comments are
 * allowed. The format names no modalities, so nodes get the loader's defaults.
 */
import type { InputIssue } from '../input-error.ts';
import type { RawNodeRecord } from './records.ts';

export function parseIbrl(
  text: string,
  file: string,
  issues: InputIssue[],
): Array<{ record: RawNodeRecord; line: number }> {
  const out: Array<{ record: RawNodeRecord; line: number }> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 3) {
      issues.push({
        file,
        line,
        field: 'line',
        message: `expected 3 fields "id x y", got ${fields.length}: ${JSON.stringify(trimmed)}`,
      });
      return;
    }
    out.push({ record: { id: fields[0], x: fields[1], y: fields[2] }, line });
  });
  return out;
}
