import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutgoingMessage, TransportProducer } from '../../../common/transport.ts';
import type { Reading } from '../../../common/types.ts';
import { createTopology, loadTopology } from '../../../topology/index.ts';
import { parseIbrlLine, streamIbrl, type IbrlLineIssue } from '../../../sources/ibrl-reader.ts';
import { StreamInjector, parseInjection } from '../../../sources/stream-inject.ts';
import { publishPaced } from '../../../sources/publish.ts';
import { FLOOR_M, onFloor, Simulation, writeSimulatedTopology } from '../../../sources/simulate.ts';
import { DEFAULT_PLAUSIBILITY, implausibility } from '../../../ingest/plausibility.ts';
import { pearson } from '../../../sources/inject.ts';

describe('IBRL reader', () => {
  it('parses a full line and a line without light (7 fields), as UTC', () => {
    expect(parseIbrlLine('2004-03-04 00:00:26.983691 14285 1 20.5666 35.8876 46.92 2.65143', 'f', 1)).toEqual({
      ts: Date.UTC(2004, 2, 4, 0, 0, 26, 983),
      epoch: 14285,
      mote: '1',
      values: { temperature: 20.5666, humidity: 35.8876, light: 46.92, voltage: 2.65143 },
      file: 'f',
      line: 1,
    });
    const noLight = parseIbrlLine('2004-03-04 00:00:26 14285 3 20.5  35.8   2.6', 'f', 2);
    expect('values' in noLight && noLight.values).toEqual({ temperature: 20.5, humidity: 35.8, voltage: 2.6 });
  });

  it('reports a bad line with file, line and what is wrong', () => {
    expect(parseIbrlLine('2004-03-04 00:00:26 14285 3 warm 35.8 1 2.6', 'readings/3.txt', 7)).toEqual({
      file: 'readings/3.txt',
      line: 7,
      message: 'temperature "warm" is not a number',
    });
    expect(parseIbrlLine('2004-03-04 14285 3', 'r', 1)).toMatchObject({ message: expect.stringMatching(/found 3/) });
  });

  it('merges the per-mote files in event-time order, filters epochs and skips bad lines with a report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibrl-'));
    mkdirSync(join(dir, 'readings'));
    writeFileSync(
      join(dir, 'readings', '1.txt'),
      '2004-03-04 00:00:10 1 1 20 30 5 2.6\n2004-03-04 00:00:40 2 1 21 31 5 2.6\n2004-03-04 00:01:10 3 1 22 32 5 2.6\n',
    );
    writeFileSync(
      join(dir, 'readings', '2.txt'),
      '2004-03-04 00:00:05 1 2 19 30 5 2.6\nnot a reading\n2004-03-04 00:00:45 2 2 18 30  2.6\n2004-03-04 00:00:30 2 2 18 30 5 2.6\n',
    );
    const issues: IbrlLineIssue[] = [];
    const all: string[] = [];
    for await (const r of streamIbrl(dir, { onBadLine: (i) => issues.push(i) })) all.push(`${r.mote}@${r.epoch}`);
    expect(all).toEqual(['2@1', '1@1', '1@2', '2@2', '1@3']);
    expect(issues.map((i) => [i.file.endsWith('2.txt'), i.line])).toEqual([
      [true, 2],
      [true, 4],
    ]);
    const some: string[] = [];
    for await (const r of streamIbrl(dir, { fromEpoch: 2, toEpoch: 2 })) some.push(`${r.mote}@${r.epoch}`);
    expect(some).toEqual(['1@2', '2@2']);
  });
});

describe('stream injection', () => {
  const reading = (ts: number, temperature: number): Reading => ({
    network: 'n',
    node: '7',
    ts,
    values: { temperature, humidity: 40 },
  });

  it('parses specs with an epoch or an ISO start and a magnitude, and rejects bad ones with a hint', () => {
    expect(parseInjection('12:temperature:surge:20000:5')).toEqual({
      node: '12',
      modality: 'temperature',
      kind: 'surge',
      startEpoch: 20000,
      length: 5,
    });
    expect(parseInjection('7:humidity:scale=0.5:2004-03-06T10:00:00Z:8')).toEqual({
      node: '7',
      modality: 'humidity',
      kind: 'scale',
      magnitude: 0.5,
      startTs: Date.UTC(2004, 2, 6, 10),
      length: 8,
    });
    expect(() => parseInjection('7:humidity:melt:100:3')).toThrow(/unknown kind "melt"/);
    expect(() => parseInjection('7:humidity:scale:2004-03-06T10:00:00:3')).toThrow(
      /neither an IBRL epoch nor an ISO time with zone/,
    );
    expect(() => parseInjection('7:humidity:scale:100:0')).toThrow(/length must be a positive integer/);
  });

  it('changes exactly `length` readings of the node and modality from the start on', () => {
    const injector = new StreamInjector([
      { node: '7', modality: 'temperature', kind: 'surge', magnitude: 10, startTs: 3_000, length: 2 },
    ]);
    const out = [1_000, 2_000, 3_000, 4_000, 5_000].map((ts) => injector.apply(reading(ts, 20)));
    expect(out.map((r) => r.values.temperature)).toEqual([20, 20, 30, 30, 20]);
    expect(out.every((r) => r.values.humidity === 40)).toBe(true);
    expect(injector.apply({ ...reading(3_500, 20), node: '8' }).values.temperature).toBe(20);
    expect(injector.applied.map((a) => [a.ts, a.original, a.injected])).toEqual([
      [3_000, 20, 30],
      [4_000, 20, 30],
    ]);
  });

  it('ramps up and back down for increase, holds the first value for stuck, flips for mirror', () => {
    const ramp = new StreamInjector([
      { node: '7', modality: 'temperature', kind: 'increase', magnitude: 1, startEpoch: 1, length: 3 },
    ]);
    expect([1, 2, 3, 4, 5, 6, 7].map((e) => ramp.apply(reading(e, 10), e).values.temperature)).toEqual([
      11, 12, 13, 12, 11, 10, 10,
    ]);
    const stuck = new StreamInjector([{ node: '7', modality: 'temperature', kind: 'stuck', startTs: 0, length: 3 }]);
    expect([5, 6, 7, 8].map((v, i) => stuck.apply(reading(i, v)).values.temperature)).toEqual([5, 5, 5, 8]);
    const mirror = new StreamInjector([{ node: '7', modality: 'temperature', kind: 'mirror', startTs: 0, length: 1 }]);
    expect(mirror.apply(reading(0, 21)).values.temperature).toBe(-21);
  });
});

describe('simulation', () => {
  it('is deterministic for a seed, with every node and modality and event times inside their tick', () => {
    const a = new Simulation({ nodes: 12, seed: 3, startTs: 0, tickMs: 31_000, lossRate: 0 });
    const b = new Simulation({ nodes: 12, seed: 3, startTs: 0, tickMs: 31_000, lossRate: 0 });
    expect(a.round(5)).toEqual(b.round(5));
    const round = a.round(5);
    expect(round.map((r) => r.node)).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)));
    for (const r of round) {
      expect(r.ts).toBeGreaterThanOrEqual(5 * 31_000);
      expect(r.ts).toBeLessThan(6 * 31_000);
      expect(Object.keys(r.values).sort()).toEqual(['humidity', 'light', 'temperature', 'voltage']);
    }
    expect(new Simulation({ nodes: 12, seed: 4, startTs: 0, lossRate: 0 }).round(5)).not.toEqual(round);
  });

  it('follows a daily cycle, with humidity anti-correlated to temperature across a day', () => {
    const sim = new Simulation({ nodes: 3, seed: 1, startTs: 0, tickMs: 600_000, lossRate: 0 });
    const day = Array.from({ length: 144 }, (_, k) => sim.round(k)[0]);
    const temperature = day.map((r) => r.values.temperature);
    const humidity = day.map((r) => r.values.humidity);
    expect(Math.max(...temperature) - Math.min(...temperature)).toBeGreaterThan(5);
    expect(pearson(temperature, humidity)).toBeLessThan(-0.9);
  });

  it("plans faults when asked: silence removes the node's readings, stuck holds a value", () => {
    const sim = new Simulation({ nodes: 40, seed: 2, startTs: 0, tickMs: 31_000, faults: true, lossRate: 0 });
    expect(sim.faults.length).toBe(4);
    const silence = sim.faults.find((f) => f.kind === 'dropout');
    const stuck = sim.faults.find((f) => f.kind === 'stuck');
    expect(silence && stuck).toBeTruthy();
    if (!silence || !stuck) return;
    const k = silence.fromTs / 31_000 + 1;
    expect(sim.round(k).some((r) => r.node === silence.node)).toBe(false);
    const ks = stuck.fromTs / 31_000;
    const held = [ks, ks + 5, ks + 10].map(
      (kk) => sim.round(kk).find((r) => r.node === stuck.node)?.values[stuck.modality],
    );
    expect(new Set(held).size).toBe(1);
  });

  it("keeps a network of 100,000 nodes within ingest's plausible ranges: wide networks are mirrored floors", () => {
    // Mid-afternoon (the warmest), evening and early morning, without radio loss.
    const sim = new Simulation({
      nodes: 100_000,
      seed: 1,
      startTs: 13 * 3_600_000,
      tickMs: 8 * 3_600_000,
      lossRate: 0,
    });
    const implausible: string[] = [];
    for (const k of [0, 1, 2])
      for (const reading of sim.round(k))
        for (const [modality, value] of Object.entries(reading.values)) {
          const why = implausibility(modality, value, DEFAULT_PLAUSIBILITY);
          if (why && implausible.length < 3) implausible.push(`node ${reading.node}: ${why}`);
        }
    expect(implausible).toEqual([]);
    // The first floor is read exactly as placed, so networks that fit on it give the readings they always gave.
    for (const x of [0, 6.37, 123.45, 397.62, FLOOR_M]) expect(onFloor(x)).toBe(x);
    expect(onFloor(FLOOR_M + 10)).toBe(FLOOR_M - 10);
    expect(onFloor(2 * FLOOR_M + 10)).toBe(10);
  });

  it('writes node positions the topology module loads', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sim-')), 'node.txt');
    const nodes = writeSimulatedTopology(file, { nodes: 30, seed: 1 });
    const topology = createTopology(loadTopology(file));
    expect(topology.network.graph.order).toBe(30);
    expect(topology.network.graph.hasNode(nodes[29].id)).toBe(true);
  });
});

describe('paced publishing', () => {
  it('sends at speed× event time (sleeping on a fake clock) and in order', async () => {
    let clock = 0;
    const sleeps: number[] = [];
    const sent: string[] = [];
    const producer: TransportProducer = {
      send: async (_topic: string, messages: OutgoingMessage[]) =>
        void sent.push(...messages.map((m) => String(m.key))),
      close: async () => undefined,
    };
    const readings = [0, 1_000, 1_000, 61_000].map((ts, i): Reading => ({
      network: 'n',
      node: String(i),
      ts,
      values: { t: 1 },
    }));
    const result = await publishPaced(readings, {
      producer,
      topic: 't',
      speed: 10,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    expect(sleeps).toEqual([100, 6_000]);
    expect(sent).toEqual(['0', '1', '2', '3']);
    expect(result).toEqual({ sent: 4, eventTs: 61_000, done: true });
  });

  it('live (origin at the clock), sends each reading at its event time: one already past at once, none early', async () => {
    // The clock at 40,000 ms, inside the tick [31,000, 62,000) a live simulation starts from.
    let clock = 40_000;
    const sends: Array<{ at: number; keys: string[] }> = [];
    const producer: TransportProducer = {
      send: async (_topic: string, messages: OutgoingMessage[]) =>
        void sends.push({ at: clock, keys: messages.map((m) => String(m.key)) }),
      close: async () => undefined,
    };
    const readings = [31_500, 39_000, 45_000, 62_500, 93_200].map((ts): Reading => ({
      network: 'n',
      node: String(ts),
      ts,
      values: { t: 1 },
    }));
    const paced = {
      producer,
      topic: 't',
      speed: 1,
      burstMs: 0,
      now: () => clock,
      sleep: async (ms: number) => void (clock += ms),
    };
    await publishPaced(readings, { ...paced, origin: { event: 0, wall: 0 } });
    expect(sends).toEqual([
      { at: 40_000, keys: ['31500', '39000'] },
      { at: 45_000, keys: ['45000'] },
      { at: 62_500, keys: ['62500'] },
      { at: 93_200, keys: ['93200'] },
    ]);
    // From the first reading instead, every reading went out 8.5 s after its event time.
    clock = 40_000;
    sends.length = 0;
    await publishPaced(readings, paced);
    expect(sends.map(({ at, keys }) => at - Number(keys[0]))).toEqual([8_500, 8_500, 8_500, 8_500, 8_500]);
  });

  it('sends a dense live stream in bursts: one send per burst, none more than burstMs early, none late', async () => {
    let clock = 0;
    const sleeps: number[] = [];
    const sends: Array<{ at: number; keys: string[] }> = [];
    const producer: TransportProducer = {
      send: async (_topic: string, messages: OutgoingMessage[]) =>
        void sends.push({ at: clock, keys: messages.map((m) => String(m.key)) }),
      close: async () => undefined,
    };
    // A reading every 0.25 ms for one second at speed 1: 4,000 readings, as 100,000 nodes at 25 s give.
    const readings = Array.from({ length: 4_000 }, (_, i): Reading => ({
      network: 'n',
      node: String(i),
      ts: i / 4,
      values: { t: 1 },
    }));
    const result = await publishPaced(readings, {
      producer,
      topic: 't',
      speed: 1,
      batchSize: 10_000,
      burstMs: 50,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    expect(result.sent).toBe(4_000);
    // Paced reading by reading this took about 4,000 sleeps and sends.
    expect(sleeps.length).toBeLessThanOrEqual(20);
    expect(sends.length).toBeLessThanOrEqual(21);
    expect(sends.flatMap((s) => s.keys)).toEqual(readings.map((r) => r.node));
    for (const { at, keys } of sends) {
      const due = keys.map((key) => Number(key) / 4);
      // Sent when the first of the burst was due (not late) and no reading more than 50 ms before its time.
      expect(Math.min(...due)).toBeLessThanOrEqual(at);
      expect(Math.max(...due) - at).toBeLessThanOrEqual(50);
    }
  });
});
