import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The CLI runs under plain Node (ESM loader + tsx), not under vitest's
// transform. Module-loading problems that vitest papers over — such as a
// CommonJS package whose named exports Node cannot see — only show up here.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = path.join(repoRoot, 'bin/wsn-watch.mjs');

function help(args: string[]): string {
  return execFileSync(process.execPath, [cli, ...args, '--help'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, WSN_LOG_LEVEL: 'silent' },
  });
}

const TOP_LEVEL = [
  'services',
  'topology',
  'train',
  'retrain',
  'drift',
  'eval',
  'detect',
  'ingest',
  'replay',
  'simulate',
  'demo',
];

describe('wsn-watch --help', () => {
  it('loads every module under plain Node and lists every top-level command', () => {
    const text = help([]);
    for (const command of TOP_LEVEL) {
      expect(text, `command ${command} missing from --help`).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it.each(TOP_LEVEL)('documents the options of `%s`', (command) => {
    const text = help([command]);
    expect(text).toContain(`Usage: wsn-watch ${command}`);
    expect(text).toMatch(/-h, --help/);
  });
});
