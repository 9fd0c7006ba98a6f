import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FRAME_PARTITIONS, STATE_PARTITIONS } from '../../../common/constants.ts';
import { DEFAULT_ALERT_THRESHOLD } from '../../../common/thresholds.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Tracked and new source files outside tests and benches, bar the files that define the constants. */
function sourceFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(
      (file) =>
        file !== '' &&
        !file.startsWith('test/') &&
        !file.startsWith('bench/') &&
        file !== 'common/constants.ts' &&
        file !== 'common/thresholds.ts',
    );
}

/** Source lines matching `literal`, as "file:line: text". */
function linesSpelling(literal: RegExp): string[] {
  return sourceFiles().flatMap((file) =>
    readFileSync(path.join(repoRoot, file), 'utf8')
      .split('\n')
      .flatMap((line, i) => (literal.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
}

// A topic's partition count written as a number above 1 (single-partition topics are a design choice, not a shared count).
const PARTITION_LITERAL = /\b(?:num)?partitions:\s*(?:[^,}]*\?\?\s*)?([2-9]|\d{2,})\b/i;
// A threshold given the default alert threshold's value as a number (a property, a constant, or a fallback after ??);
// no space before a property's colon, so a ternary's `threshold : 0.5` is not one.
const THRESHOLD_LITERAL = new RegExp(
  String.raw`\bthreshold\w*(?::|\s*=)\s*(?:[^,;}]*\?\?\s*)?${DEFAULT_ALERT_THRESHOLD}(?![\d.])`,
  'i',
);

describe('shared constants', () => {
  it('have sane values', () => {
    expect(FRAME_PARTITIONS).toBeGreaterThan(0);
    expect(STATE_PARTITIONS).toBeGreaterThan(0);
  });

  it('partition counts are imported from common/constants.ts, not spelled out', () => {
    expect(linesSpelling(PARTITION_LITERAL)).toEqual([]);
  });

  it('the default alert threshold is imported from common/thresholds.ts, not spelled out', () => {
    expect(THRESHOLD_LITERAL.test('  threshold: 0.5,')).toBe(true);
    expect(THRESHOLD_LITERAL.test('const threshold = flags.threshold ?? 0.5;')).toBe(true);
    expect(THRESHOLD_LITERAL.test('threshold: 0.55,')).toBe(false);
    expect(THRESHOLD_LITERAL.test('p < threshold ? p : 0.5')).toBe(false);
    expect(linesSpelling(THRESHOLD_LITERAL)).toEqual([]);
  });
});
