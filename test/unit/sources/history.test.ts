import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../common/errors.ts';
import { alignHistory, loadHistory, parseTimestamp } from '../../../sources/history.ts';

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'history-'));
  const f = path.join(dir, name);
  await writeFile(f, text);
  return f;
}

describe('history loader', () => {
  it('aligns a CSV on the inferred tick, newest value per tick, gaps filled', async () => {
    const f = await file(
      'h.csv',
      ['node,ts,temperature,humidity', 'a,0,20,40', 'b,0,21,41', 'a,1000,20.5,40.5', 'a,1500,20.7,40.7', 'b,2000,21.2,41.2', 'a,3000,21,41', 'b,3000,21.3,41.3'].join('\n'),
    );
    const { series, tickMs, filled } = await loadHistory(f);
    expect(tickMs).toBe(1000);
    expect(series.nodes).toEqual(['a', 'b']);
    expect(series.modalities).toEqual(['temperature', 'humidity']);
    expect(series.steps).toBe(4);
    const v = (t: number, n: number, m: number): number => series.data[(t * 2 + n) * 2 + m];
    expect([0, 1, 2, 3].map((t) => v(t, 0, 0))).toEqual([20, 20.7, 20.7, 21].map((x) => Math.fround(x)));
    expect([0, 1, 2, 3].map((t) => v(t, 1, 1))).toEqual([41, 41, 41.2, 41.3].map((x) => Math.fround(x)));
    expect(filled).toEqual({ a: 2, b: 2 });
    expect(series.times).toEqual([0, 1000, 2000, 3000]);
  });

  it('reads JSON lines, with values nested or at top level', async () => {
    const f = await file(
      'h.jsonl',
      [
        '{"node":"n1","ts":"2024-05-01T00:00:00Z","values":{"temperature":21.5}}',
        '{"node":"n1","ts":"2024-05-01T00:01:00Z","temperature":22}',
        '',
        '{"node":"n2","ts":1714521600000,"values":{"temperature":19}}',
      ].join('\n'),
    );
    const { series, tickMs } = await loadHistory(f, { tickMs: 60_000 });
    expect(tickMs).toBe(60_000);
    expect(series.nodes).toEqual(['n1', 'n2']);
    expect(Array.from(series.data)).toEqual([21.5, 19, 22, 19]);
  });

  it('names the line and field of bad CSV values', async () => {
    const bad = await file('bad.csv', ['node,ts,temperature', 'a,0,20', 'a,1000,warm'].join('\n'));
    await expect(loadHistory(bad)).rejects.toThrow(/bad\.csv:3: field "temperature" is "warm", not a number/);
    const badTime = await file('t.csv', ['node,ts,temperature', 'a,yesterday,20'].join('\n'));
    await expect(loadHistory(badTime)).rejects.toThrow(/t\.csv:2: field "ts" is "yesterday", not a timestamp/);
    const noNode = await file('n.csv', ['id,ts,temperature', 'a,0,20'].join('\n'));
    await expect(loadHistory(noNode)).rejects.toThrow(/n\.csv:2: no column "node"/);
    const ragged = await file('r.csv', ['node,ts,temperature', 'a,0,20,5'].join('\n'));
    await expect(loadHistory(ragged)).rejects.toThrow(UserError);
  });

  it('names the line and field of bad JSON lines', async () => {
    const notJson = await file('a.jsonl', '{"node":"a","ts":0,"temperature":1}\n{oops');
    await expect(loadHistory(notJson)).rejects.toThrow(/a\.jsonl:2: not valid JSON/);
    const badValue = await file('b.jsonl', '{"node":"a","ts":0,"values":{"humidity":"wet"}}');
    await expect(loadHistory(badValue)).rejects.toThrow(/b\.jsonl:1: field "values\.humidity" is "wet"/);
    const noNode = await file('c.jsonl', '{"ts":0,"temperature":1}');
    await expect(loadHistory(noNode)).rejects.toThrow(/c\.jsonl:1: field "node" is missing/);
  });

  it('rejects gaps longer than allowed and unknown files', async () => {
    const readings = [
      { node: 'a', ts: 0, values: { t: 1 } },
      { node: 'a', ts: 1000, values: { t: 1 } },
      { node: 'a', ts: 20_000, values: { t: 1 } },
    ];
    expect(() => alignHistory(readings, { tickMs: 1000, maxGapTicks: 5 })).toThrow(/more than 5 ticks/);
    expect(alignHistory(readings, { tickMs: 1000, maxGapTicks: 30 }).series.steps).toBe(21);
    await expect(loadHistory(path.join(os.tmpdir(), 'no-such-history.csv'))).rejects.toThrow(/cannot read/);
  });

  it('parses ISO and epoch-ms timestamps', () => {
    expect(parseTimestamp('2024-05-01T00:00:00Z')).toBe(1714521600000);
    expect(parseTimestamp('1714521600000')).toBe(1714521600000);
    expect(parseTimestamp('')).toBeNaN();
  });
});
