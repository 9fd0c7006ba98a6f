import { readFile, mkdtemp, writeFile, readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadIntelLab } from '../../../sources/download.ts';
import { loadIbrl } from '../../../sources/ibrl.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = path.resolve(repoRoot, '../shared/data/ibrl');

/** A small data.txt in the original whole-network format: lines of two motes interleaved, plus junk. */
async function sampleDataText(): Promise<{ text: string; mote1: string[]; mote28: string[] }> {
  const mote1 = (await readFile(path.join(shared, 'readings', '1.txt'), 'utf8')).split('\n').slice(0, 30);
  const mote28 = (await readFile(path.join(shared, 'readings', '28.txt'), 'utf8'))
    .split('\n')
    .filter((l) => l.includes('  '))
    .slice(0, 5);
  const lines: string[] = [];
  for (let i = 0; i < 30; i++) {
    lines.push(mote1[i]);
    if (i < 5) lines.push(mote28[i]);
  }
  lines.push('2004-03-04 00:00:26.98 14285'); // a broken line: no mote
  lines.push('2004-02-28 00:58:46.002832 2 1 19.98 37.09 45.08 2.69'); // outside the paper's days
  return { text: lines.join('\n') + '\n', mote1, mote28 };
}

describe('downloadIntelLab', () => {
  let server: http.Server;
  let url: string;
  let gz: Buffer;
  let sample: Awaited<ReturnType<typeof sampleDataText>>;

  beforeAll(async () => {
    sample = await sampleDataText();
    gz = gzipSync(sample.text);
    server = http.createServer((req, res) => {
      if (req.url === '/data.txt.gz') res.end(gz);
      else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('splits the gzip over http into per-mote files the loader reads', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'intel-'));
    const report = await downloadIntelLab(`${url}/data.txt.gz`, out, { fromDay: '2004-03-04', toDay: '2004-03-08' });
    expect(report.motes).toEqual(['1', '28']);
    expect(report.written).toBe(35);
    expect(report.skipped).toBe(1);
    expect(report.skippedExamples[0]).toEqual({ line: 36, reason: 'only 3 fields' });
    expect(report.outsideDays).toBe(1);
    expect((await readdir(path.join(out, 'readings'))).sort()).toEqual(['1.txt', '28.txt']);
    // Lines are kept byte for byte, missing light (two spaces) included.
    expect((await readFile(path.join(out, 'readings', '28.txt'), 'utf8')).split('\n').slice(0, 5)).toEqual(
      sample.mote28,
    );
    const data = await loadIbrl(out, { firstEpoch: 14285, lastEpoch: 14300, samples: 4 });
    expect(data.report.missingLight).toBe(5);
    expect(data.series.nodes).toEqual(['1', '28']);
  });

  it('reads a local gzip file too', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'intel-'));
    const file = path.join(dir, 'data.txt.gz');
    await writeFile(file, gz);
    const report = await downloadIntelLab(file, path.join(dir, 'out'));
    expect(report.written).toBe(36); // no day filter: the February line too
  });

  it('says which host it cannot reach', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const out = await mkdtemp(path.join(os.tmpdir(), 'intel-'));
    await expect(downloadIntelLab(`http://127.0.0.1:${port}/data.txt.gz`, out)).rejects.toThrow(
      new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}.*ECONNREFUSED`),
    );
  });

  it('reports HTTP errors and corrupt files', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'intel-'));
    await expect(downloadIntelLab(`${url}/missing.gz`, out)).rejects.toThrow(/HTTP 404/);
    const file = path.join(out, 'bad.gz');
    await writeFile(file, 'not gzip at all');
    await expect(downloadIntelLab(file, out)).rejects.toThrow(/not a valid gzip/);
  });
});
