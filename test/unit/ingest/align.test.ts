import { describe, it, expect } from 'vitest';
import { Aligner, type AlignerOptions, type SkippedTicks } from '../../../ingest/align.ts';
import type { Frame, Reading } from '../../../common/types.ts';
import { directoryOf } from '../../support/ingest.ts';

const T = 31_000;
const T0 = 1_000 * T; // a tick boundary
const directory = directoryOf('lab', 'v1', [
  ['c1', ['2', '1'], ['temperature', 'humidity']],
  ['c0', ['10'], ['temperature']],
]);
const options: AlignerOptions = { tickMs: T, allowedLatenessMs: 2 * T, silenceMs: 5 * T };
const r = (node: string, ts: number, values: Record<string, number>): Reading => ({ network: 'lab', node, ts, values });

function feed(aligner: Aligner, readings: Reading[]): Frame[] {
  return readings.flatMap((x) => aligner.add(x).frames);
}
const frameOf = (frames: Frame[], cluster: string, tick: number): Frame | undefined =>
  frames.find((f) => f.cluster === cluster && f.tick === tick);

describe('Aligner', () => {
  it('emits a tick only when the watermark (max event time − lateness) passes its end', () => {
    const a = new Aligner(directory, options);
    expect(feed(a, [r('1', T0 + 1_000, { temperature: 20 })])).toEqual([]);
    // max event time T0+3T−1 → watermark T0+T−1: tick T0 not yet closed.
    expect(feed(a, [r('1', T0 + 3 * T - 1, { temperature: 21 })])).toEqual([]);
    expect(a.watermark).toBe(T0 + T - 1);
    // watermark reaches T0+T: tick T0 is emitted, one frame per cluster, clusters in id order.
    const frames = feed(a, [r('1', T0 + 3 * T, { temperature: 22 })]);
    expect(frames.map((f) => [f.cluster, f.tick])).toEqual([
      ['c0', T0],
      ['c1', T0],
    ]);
  });

  it('builds frames with nodes in id order, the topology version and null for never-reported modalities', () => {
    const a = new Aligner(directory, options);
    const frames = feed(a, [
      r('2', T0 + 5, { temperature: 19 }),
      r('1', T0 + 10, { temperature: 20, humidity: 40 }),
      r('10', T0 + 4 * T, { temperature: 5 }),
    ]);
    const c1 = frameOf(frames, 'c1', T0);
    expect(c1).toEqual({
      network: 'lab',
      cluster: 'c1',
      tick: T0,
      topologyVersion: 'v1',
      nodes: [
        { node: '1', values: { humidity: 40, temperature: 20 }, staleTicks: 0, silent: false },
        { node: '2', values: { humidity: null, temperature: 19 }, staleTicks: 0, silent: false },
      ],
    });
  });

  it('takes the reading nearest the middle of the tick', () => {
    const a = new Aligner(directory, options);
    const frames = feed(a, [
      r('1', T0 + 1_000, { temperature: 1 }),
      r('1', T0 + T / 2 + 2_000, { temperature: 2 }),
      r('1', T0 + T - 1, { temperature: 3 }),
      r('1', T0 + 10 * T, { temperature: 9 }),
    ]);
    expect(frameOf(frames, 'c1', T0)?.nodes[0].values.temperature).toBe(2);
  });

  it('fills gaps with the last known value (the latest reading of an earlier tick) and counts staleTicks', () => {
    const a = new Aligner(directory, options);
    const frames = feed(a, [
      r('1', T0 + 100, { temperature: 10, humidity: 50 }),
      r('1', T0 + T - 100, { temperature: 11 }),
      r('1', T0 + 2 * T + 5, { temperature: 12 }),
      r('2', T0 + 6 * T, { temperature: 0 }),
    ]);
    const node1 = (tick: number) => frameOf(frames, 'c1', tick)?.nodes.find((n) => n.node === '1');
    expect(node1(T0)).toMatchObject({ values: { temperature: 10, humidity: 50 }, staleTicks: 0 });
    // tick 1 has no reading of node 1: carried forward from the latest reading of tick 0 (11, not 10).
    expect(node1(T0 + T)).toMatchObject({ values: { temperature: 11, humidity: 50 }, staleTicks: 1 });
    // tick 2 has a new temperature; humidity still from tick 0; staleTicks follows the freshest reading.
    expect(node1(T0 + 2 * T)).toMatchObject({ values: { temperature: 12, humidity: 50 }, staleTicks: 0 });
    expect(node1(T0 + 3 * T)).toMatchObject({ values: { temperature: 12 }, staleTicks: 1 });
    expect(node1(T0 + 3 * T)?.silent).toBe(false);
  });

  it('flags a node silent once it has not reported for more than silenceMs, and a never-heard node too', () => {
    const a = new Aligner(directory, options);
    const readings: Reading[] = [];
    for (let k = 0; k < 12; k++) readings.push(r('2', T0 + k * T + 100, { temperature: k }));
    readings.push(r('1', T0 + 100, { temperature: 1 }));
    const frames = feed(a, readings);
    const silentOf = (node: string, tick: number) =>
      frameOf(frames, 'c1', tick)?.nodes.find((n) => n.node === node)?.silent;
    // node 1 last reported at T0+100; silent when tick end − that > 5T, i.e. from tick T0+5T on.
    expect(silentOf('1', T0 + 4 * T)).toBe(false);
    expect(silentOf('1', T0 + 5 * T)).toBe(true);
    expect(silentOf('2', T0 + 5 * T)).toBe(false);
    // node 10 never reported: silence counts from the first tick seen.
    const ten = (tick: number) => frameOf(frames, 'c0', tick)?.nodes[0];
    expect(ten(T0 + 4 * T)).toMatchObject({ silent: false, values: { temperature: null }, staleTicks: 4 });
    expect(ten(T0 + 5 * T)?.silent).toBe(true);
  });

  it('accepts a reading that is behind the max event time but within allowed lateness', () => {
    const a = new Aligner(directory, options);
    feed(a, [r('1', T0 + 2 * T, { temperature: 30 })]);
    const res = a.add(r('1', T0 + 500, { temperature: 5 }));
    expect(res.status).toBe('accepted');
    const frames = feed(a, [r('1', T0 + 4 * T, { temperature: 0 })]);
    expect(frameOf(frames, 'c1', T0)?.nodes[0].values.temperature).toBe(5);
  });

  it('rejects readings for an already emitted tick as late, without changing emitted frames', () => {
    const a = new Aligner(directory, options);
    const frames = feed(a, [r('1', T0 + 100, { temperature: 1 }), r('1', T0 + 3 * T, { temperature: 3 })]);
    expect(frames.map((f) => f.tick)).toEqual([T0, T0]);
    const late = a.add(r('2', T0 + 200, { temperature: 99 }));
    expect(late).toEqual({ status: 'late', tick: T0, nextTick: T0 + T, frames: [] });
    const more = feed(a, [r('1', T0 + 10 * T, { temperature: 4 })]);
    // the late value never shows up, not even as a carried-forward value
    expect(
      more
        .flatMap((f) => f.nodes)
        .filter((n) => n.node === '2')
        .every((n) => n.values.temperature === null),
    ).toBe(true);
  });

  it('gives the same frames whatever the batching, and after a checkpoint/restore in the middle', () => {
    const readings: Reading[] = [];
    for (let k = 0; k < 40; k++) {
      readings.push(
        r(String((k % 3) + 1 === 3 ? 10 : (k % 3) + 1), T0 + k * 9_000 + (k % 5) * 777, { temperature: k * 0.5 }),
      );
    }
    const once = new Aligner(directory, options);
    const all = [...feed(once, readings), ...once.flush()];

    const first = new Aligner(directory, options);
    const part1 = feed(first, readings.slice(0, 17));
    const checkpoint = JSON.parse(JSON.stringify(first.snapshot()));
    const resumed = new Aligner(directory, options, checkpoint);
    const part2 = [...feed(resumed, readings.slice(17)), ...resumed.flush()];
    expect([...part1, ...part2]).toEqual(all);
    expect(all.length).toBeGreaterThan(10);
  });

  it('re-emits identical frames when readings after a checkpoint are delivered again (idempotent replay)', () => {
    const readings = Array.from({ length: 30 }, (_, k) => r(k % 2 ? '1' : '2', T0 + k * 10_000, { temperature: k }));
    const a = new Aligner(directory, options);
    feed(a, readings.slice(0, 10));
    const checkpoint = a.snapshot();
    const firstRun = feed(a, readings.slice(10));
    const replay = feed(new Aligner(directory, options, checkpoint), readings.slice(10));
    expect(replay).toEqual(firstRun);
    // and duplicates of already-seen readings do not change the tick's value
    const dup = new Aligner(directory, options, checkpoint);
    const withDuplicates = feed(dup, [...readings.slice(10, 15), ...readings.slice(10)]);
    expect(withDuplicates).toEqual(firstRun);
  });

  it('keeps its state small: only ticks within allowed lateness are open', () => {
    const a = new Aligner(directory, options);
    for (let k = 0; k < 500; k++) a.add(r('1', T0 + k * 1_000, { temperature: k, humidity: k }));
    const state = a.snapshot();
    expect(Object.keys(state.open).length).toBeLessThanOrEqual(options.allowedLatenessMs / T + 2);
    expect(JSON.stringify(state).length).toBeLessThan(2_000);
  });

  it('skips the oldest ticks of an empty stretch longer than maxCatchUpMs, reporting the skip; ticks with readings are emitted', () => {
    const skips: SkippedTicks[] = [];
    const a = new Aligner(directory, { ...options, maxCatchUpMs: 5 * T, onSkip: (skip) => skips.push(skip) });
    feed(a, [r('1', T0 + 100, { temperature: 1 })]);
    const frames = feed(a, [r('1', T0 + 100 * T, { temperature: 2 })]);
    const ticks = [...new Set(frames.map((f) => f.tick))];
    // The tick with a reading, then the last 5 ticks of the empty stretch before the watermark.
    expect(ticks).toEqual([T0, T0 + 93 * T, T0 + 94 * T, T0 + 95 * T, T0 + 96 * T, T0 + 97 * T]);
    expect(skips).toEqual([{ from: T0 + T, to: T0 + 93 * T, ticks: 92 }]);
    // the reading before the gap is still the last known value
    expect(frameOf(frames, 'c1', T0 + 93 * T)?.nodes.find((n) => n.node === '1')?.values.temperature).toBe(1);
  });

  it('never skips ticks that hold readings: a 4.5 h backlog of 5 s ticks released at once is emitted in full', () => {
    const tickMs = 5_000;
    const skips: SkippedTicks[] = [];
    const a = new Aligner(directory, {
      tickMs,
      allowedLatenessMs: 2 * tickMs,
      silenceMs: 60_000,
      maxCatchUpMs: 3600_000,
      onSkip: (skip) => skips.push(skip),
    });
    a.setSources(['p0', 'p1']);
    const count = (4.5 * 3600_000) / tickMs;
    const held = Array.from(
      { length: count },
      (_, k) => a.add(r('1', T0 + k * tickMs + 100, { temperature: k }), 'p0').frames,
    ).flat();
    expect(held).toEqual([]); // p1 has not delivered: the watermark waits
    const frames = a.add(r('2', T0 + count * tickMs + 100, { temperature: 0 }), 'p1').frames;
    const ticks = new Set(frames.map((f) => f.tick));
    // Every tick up to the watermark: p0's newest reading (tick count − 1) minus the lateness of 2 ticks.
    expect(ticks.size).toBe(count - 3);
    expect(Math.min(...ticks)).toBe(T0);
    expect(skips).toEqual([]);
  });

  it('measures the catch-up limit in time: the same empty stretch keeps the same span whatever the tick', () => {
    for (const tickMs of [5_000, 31_000]) {
      const skips: SkippedTicks[] = [];
      const a = new Aligner(directory, {
        tickMs,
        allowedLatenessMs: 0,
        silenceMs: 60_000,
        maxCatchUpMs: 3600_000,
        onSkip: (skip) => skips.push(skip),
      });
      const start = 1_000 * 31_000 * 5; // a boundary of both grids
      const frames = feed(a, [r('1', start, { temperature: 1 }), r('1', start + 10 * 3600_000, { temperature: 2 })]);
      expect(skips).toHaveLength(1);
      expect(skips[0].from).toBe(start + tickMs);
      // The empty ticks still emitted span the last hour before the watermark (to within one tick).
      const kept = Math.max(...frames.map((f) => f.tick)) + tickMs - skips[0].to;
      expect(kept).toBeLessThanOrEqual(3600_000);
      expect(kept).toBeGreaterThan(3600_000 - tickMs);
      expect(skips[0].ticks).toBe((skips[0].to - skips[0].from) / tickMs);
    }
  });

  it('advances on wall-clock idle time via advanceTo, emitting silent frames for a quiet network', () => {
    const a = new Aligner(directory, options);
    feed(a, [r('1', T0 + 100, { temperature: 1 })]);
    const frames = a.advanceTo(T0 + 20 * T);
    expect(new Set(frames.map((f) => f.tick)).size).toBe(18);
    expect(frameOf(frames, 'c1', T0 + 17 * T)?.nodes[0]).toMatchObject({
      silent: true,
      staleTicks: 17,
      values: { temperature: 1 },
    });
  });

  it('follows the slowest active source, so a partition read ahead does not make the others late', () => {
    const a = new Aligner(directory, options);
    a.setSources(['p0', 'p1']);
    // p0 runs hours ahead; p1 has not delivered yet: nothing may be emitted.
    const ahead = Array.from(
      { length: 20 },
      (_, k) => a.add(r('1', T0 + k * T, { temperature: k }), 'p0').frames,
    ).flat();
    expect(ahead).toEqual([]);
    expect(a.watermark).toBeNull();
    // p1's old readings are still on time; the watermark now follows p1.
    expect(a.add(r('2', T0 + 100, { temperature: 50 }), 'p1').status).toBe('accepted');
    const frames = a.add(r('2', T0 + 3 * T + 100, { temperature: 51 }), 'p1').frames;
    expect(frames.filter((f) => f.cluster === 'c1').map((f) => f.tick)).toEqual([T0]);
    expect(frameOf(frames, 'c1', T0)?.nodes.map((n) => n.values.temperature)).toEqual([0, 50]);
  });

  it('moves an idle source up to the given event time, and follows it again once it delivers', () => {
    const a = new Aligner(directory, options);
    a.setSources(['p0', 'p1']);
    a.add(r('1', T0 + 100, { temperature: 1 }), 'p0');
    a.add(r('1', T0 + 5 * T, { temperature: 2 }), 'p0');
    expect(a.watermark).toBeNull();
    // p1 has nothing to read: moved up to T0+4T (what p0 had reached earlier), not to p0's max.
    const released = a.setIdle('p1', T0 + 4 * T);
    expect(a.watermark).toBe(T0 + 2 * T);
    expect(new Set(released.map((f) => f.tick))).toEqual(new Set([T0, T0 + T]));
    // p0 races ahead; p1 still holds the watermark at T0+2T, so p1's next reading is on time.
    expect(a.add(r('1', T0 + 20 * T, { temperature: 3 }), 'p0').frames).toEqual([]);
    expect(a.add(r('2', T0 + 2 * T + 10, { temperature: 4 }), 'p1').status).toBe('accepted');
    expect(a.watermark).toBe(T0 + 4 * T - 2 * T);
  });
});
