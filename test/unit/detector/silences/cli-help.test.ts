import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The `silence` commands under plain Node, as a user runs them; only what needs no Kafka.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const cli = path.join(repoRoot, 'bin/wsn-watch.mjs');
const env = { ...process.env, WSN_LOG_LEVEL: 'silent', WSN_CONFIG: '' };

describe('wsn-watch silence', () => {
  it('is listed with its subcommands and examples', () => {
    expect(execFileSync(process.execPath, [cli, '--help'], { cwd: repoRoot, env, encoding: 'utf8' })).toMatch(
      /^\s+silence\b/m,
    );
    const help = execFileSync(process.execPath, [cli, 'silence', '--help'], { cwd: repoRoot, env, encoding: 'utf8' });
    for (const sub of ['add', 'list', 'expire']) expect(help).toMatch(new RegExp(`^\\s+${sub}\\b`, 'm'));
    expect(help).toContain('wsn-watch silence add --node 12 --for 2h --reason "battery swap"');
    const add = execFileSync(process.execPath, [cli, 'silence', 'add', '--help'], {
      cwd: repoRoot,
      env,
      encoding: 'utf8',
    });
    for (const flag of ['--node', '--modality', '--for', '--until', '--from', '--reason', '--by'])
      expect(add).toContain(flag);
  });

  it.each([
    [['add', '--node', '12', '--for', '2x', '--reason', 'r'], /--for: "2x" is not a duration/],
    [['add', '--node', '12', '--reason', 'r'], /say how long/],
    [['add', '--node', '12', '--for', '1h', '--reason', 'r', '--bogus'], /unknown option '--bogus'/],
    [['expire'], /missing required argument 'id'/],
  ])('refuses %j before touching Kafka', (args, message) => {
    const result = spawnSync(process.execPath, [cli, 'silence', ...args], {
      cwd: repoRoot,
      // An unreachable broker: the command must fail on its input, not on the connection.
      env: { ...env, WSN_KAFKA_BROKERS: '127.0.0.1:9' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it('says which Kafka it cannot reach, without a stack trace', () => {
    const result = spawnSync(process.execPath, [cli, 'silence', 'list'], {
      cwd: repoRoot,
      env: { ...env, WSN_KAFKA_BROKERS: '127.0.0.1:9' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /error \[KAFKA_UNREACHABLE\]: cannot use the silences topic wsn.silences on Kafka at 127.0.0.1:9/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
