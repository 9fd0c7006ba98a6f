import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../common/errors.ts';
import {
  alignHistory,
  describeHistoryFill,
  loadHistory,
  parseTimestamp,
  type HistoryReading,
} from '../../../sources/history.ts';

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
      [
        'node,ts,temperature,humidity',
        'a,0,20,40',
        'b,0,21,41',
        'a,1000,20.5,40.5',
        'a,1500,20.7,40.7',
        'b,2000,21.2,41.2',
        'a,3000,21,41',
        'b,3000,21.3,41.3',
      ].join('\n'),
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
    // n2 ends early: its second tick is rebuilt as the other nodes' median (22, n1's) + n2's offset from them at tick 0 (19 − 21.5).
    expect(Array.from(series.data)).toEqual([21.5, 19, 22, 19.5]);
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

  it('bridges short gaps by holding, rebuilds longer ones from the other nodes instead of refusing them', async () => {
    const readings = [
      { node: 'a', ts: 0, values: { t: 10 } },
      { node: 'a', ts: 1000, values: { t: 11 } },
      { node: 'a', ts: 20_000, values: { t: 30 } },
      ...Array.from({ length: 21 }, (_, i) => ({ node: 'b', ts: i * 1000, values: { t: i } })),
    ];
    const { series, mask, summary } = alignHistory(readings, { tickMs: 1000, maxGapTicks: 5 });
    expect(series.steps).toBe(21);
    const a = (t: number): number => series.data[(t * 2 + 0) * 1 + 0];
    // a's offset from the other node (b) is +10 at each of its three readings: a rebuilt tick is b + 10.
    expect(a(10)).toBe(20);
    expect(mask[(10 * 2 + 0) * 1]).toBe(0);
    expect(mask[(20 * 2 + 0) * 1]).toBe(1);
    expect(summary.nodes[0]).toMatchObject({ node: 'a', observed: 3, held: 0, rebuilt: 18, longestGapTicks: 18 });
    await expect(loadHistory(path.join(os.tmpdir(), 'no-such-history.csv'))).rejects.toThrow(/cannot read/);
  });

  it('accepts a CSV with gaps, empty fields, a late-starting and an early-ending node, and says what it filled', async () => {
    const T = 31_000;
    // Ticks on the ingest's UTC grid: readings a few seconds off the tick starts, from an unaligned start.
    const t0 = 1_714_521_600_000 + 7 * T + 5_000;
    const rows = ['node,ts,temperature,humidity'];
    for (let k = 0; k < 40; k++) {
      const ts = (offset: number) => new Date(t0 + k * T + offset).toISOString();
      const cycle = Math.sin(k / 6);
      // n1: complete, but humidity empty every 5th row and "NA" once.
      rows.push(
        `n1,${ts(0)},${(21 + cycle).toFixed(2)},${k % 5 === 0 ? '' : k === 7 ? 'NA' : (40 + cycle).toFixed(2)}`,
      );
      // n2: a 15-tick hole (longer than maxGapTicks 10) and a 2-tick one.
      if (!(k >= 10 && k < 25) && k !== 30 && k !== 31)
        rows.push(`n2,${ts(1_000)},${(21.5 + cycle).toFixed(2)},${(42 + cycle).toFixed(2)}`);
      // n3 starts late (tick 12), n4 ends early (after tick 27).
      if (k >= 12) rows.push(`n3,${ts(2_000)},${(17 + cycle).toFixed(2)},${(45 + cycle).toFixed(2)}`);
      if (k <= 27) rows.push(`n4,${ts(-2_000)},${(21 + cycle).toFixed(2)},${(39 + cycle).toFixed(2)}`);
    }
    const f = await file('gappy.csv', rows.join('\n'));
    const progress: string[] = [];
    const { series, summary, mask, filled } = await loadHistory(f, {
      tickMs: T,
      onProgress: (line) => progress.push(line),
    });
    expect(series.nodes).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(series.times![0] % T).toBe(0);
    expect(series.times![0]).toBe(Math.floor(t0 / T) * T);
    expect(Number.isNaN(Math.max(...series.data))).toBe(false);
    expect([...series.data].every(Number.isFinite)).toBe(true);
    const byNode = Object.fromEntries(summary.nodes.map((n) => [n.node, n]));
    expect(byNode.n2).toMatchObject({ held: 4, rebuilt: 30, longestGapTicks: 15 });
    expect(byNode.n3).toMatchObject({ lateStartTicks: 12, rebuilt: 24 });
    expect(byNode.n4).toMatchObject({ earlyEndTicks: 12, rebuilt: 24 });
    // n1's empty humidity fields: 8 inside its readings (k = 5, 7, 10, …, 35) are held; the first (k = 0) precedes its first humidity, rebuilt.
    expect(byNode.n1).toMatchObject({ held: 8, rebuilt: 1, lateStartTicks: 0 });
    expect(filled.n3).toBe(24);
    // A rebuilt value follows the network at the node's level: n3 (4 °C below the others) at tick 0 ≈ 17 + sin(0),
    // not its first reading held back in time (17 + sin(2) = 17.91).
    const v = (t: number, n: number, m: number) => series.data[(t * 4 + n) * 2 + m];
    expect(mask[(0 * 4 + 2) * 2]).toBe(0);
    expect(Math.abs(v(0, 2, 0) - 17)).toBeLessThan(0.3);
    expect(progress.join('\n')).toMatch(/starts late .*n3 \(12 ticks\)/);
    expect(progress.join('\n')).toMatch(/ends early .*n4 \(12 ticks\)/);
    expect(progress.join('\n')).toMatch(/1 node\(s\) with gaps longer than 10 ticks \(rebuilt\): n2 \(longest 15\)/);
  });

  it('leaves out only a node that never reports a modality, naming it; refuses a modality no node reports', () => {
    const readings: HistoryReading[] = [
      { node: 'a', ts: 0, values: { t: 1, h: 2 } },
      { node: 'b', ts: 0, values: { t: 1 } },
      { node: 'a', ts: 1000, values: { t: 1, h: 2 } },
    ];
    const { series, summary } = alignHistory(readings, { tickMs: 1000 });
    expect(series.nodes).toEqual(['a']);
    expect(summary.dropped).toEqual([{ node: 'b', reason: 'no h reading at all' }]);
    expect(describeHistoryFill(summary)).toContain('left out node b: no h reading at all');
    expect(() => alignHistory(readings, { tickMs: 1000, modalities: ['t', 'x'] })).toThrow(/no node reports x/);
  });

  it('warns when the tick is much shorter than the readings’ spacing', () => {
    const readings = Array.from({ length: 10 }, (_, i) => ({ node: 'a', ts: i * 60_000, values: { t: i } }));
    const { summary } = alignHistory(readings, { tickMs: 31_000 });
    expect(describeHistoryFill(summary).join('\n')).toMatch(/60\.0 s apart \(median\) but the tick is 31 s/);
  });

  it('parses ISO and epoch-ms timestamps', () => {
    expect(parseTimestamp('2024-05-01T00:00:00Z')).toBe(1714521600000);
    expect(parseTimestamp('1714521600000')).toBe(1714521600000);
    expect(parseTimestamp('')).toBeNaN();
  });
});
