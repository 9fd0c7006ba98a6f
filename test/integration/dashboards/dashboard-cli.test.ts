/** `wsn-watch dashboard serve` as a user runs it, against the real InfluxDB before any result exists. */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('wsn-watch dashboard serve', () => {
  it('serves an empty, read-only dashboard until results exist, and stops on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      ['bin/wsn-watch.mjs', 'dashboard', 'serve', '--port', '0', '--poll-ms', '1000'],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          WSN_INFLUX_DATABASE: `wsn_dash_cli_${process.pid}_${Date.now()}`,
          WSN_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        const match = /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before serving: ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      expect(await (await fetch(`${url}/api/networks`)).json()).toEqual({ networks: [] });
      expect((await fetch(`${url}/api/networks`, { method: 'DELETE' })).status).toBe(405);
      expect((await fetch(`${url}/`)).status).toBe(200);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
