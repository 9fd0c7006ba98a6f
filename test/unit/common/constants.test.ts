import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FRAME_PARTITIONS, STATE_PARTITIONS } from '../../../common/constants.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Source lines that spell a partition count as a number instead of importing it. */
function partitionLiterals(): string[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(
      (file) =>
        file !== '' && !file.startsWith('test/') && !file.startsWith('bench/') && file !== 'common/constants.ts',
    );
  // A topic's partition count written as a number above 1 (single-partition topics are a design choice, not a shared count).
  const literal = /\b(?:num)?partitions:\s*(?:[^,}]*\?\?\s*)?([2-9]|\d{2,})\b/i;
  return files.flatMap((file) =>
    readFileSync(path.join(repoRoot, file), 'utf8')
      .split('\n')
      .flatMap((line, i) => (literal.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
}

describe('shared constants', () => {
  it('have sane values', () => {
    expect(FRAME_PARTITIONS).toBeGreaterThan(0);
    expect(STATE_PARTITIONS).toBeGreaterThan(0);
  });

  it('partition counts are imported from common/constants.ts, not spelled out', () => {
    expect(partitionLiterals()).toEqual([]);
  });
});
