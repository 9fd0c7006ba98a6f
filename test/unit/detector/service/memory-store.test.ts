import { describe, expect, it } from 'vitest';
import { MemoryResultStore, type ResultChange } from '../../../../store/memory.ts';
import type { Alert, ClusterScore, Frame } from '../../../../common/types.ts';

const frame = (tick: number, temperature: number): Frame => ({
  network: 'lab',
  cluster: 'c1',
  tick,
  topologyVersion: 'v1',
  nodes: [
    { node: '1', values: { temperature, humidity: null }, staleTicks: 0, silent: false },
    { node: '2', values: { temperature: temperature + 1, humidity: 40 }, staleTicks: 2, silent: false },
  ],
});

const score = (tick: number, probability: number): ClusterScore => ({
  network: 'lab',
  cluster: 'c1',
  tick,
  probability,
  nodes: [
    {
      node: '1',
      probability,
      score: probability * 10,
      reconstructionError: { temperature: 0.5, humidity: 0.1 },
      reconstruction: { temperature: 19.5, humidity: 41 },
      isAnomaly: probability > 0.5,
    },
    {
      node: '2',
      probability: 0.1,
      score: 1,
      reconstructionError: { temperature: 0.01, humidity: 0.02 },
      isAnomaly: false,
    },
  ],
});

const alert = (status: 'firing' | 'resolved', startsAt: number): Alert => ({
  id: 'lab/c1/1',
  kind: 'anomaly',
  status,
  network: 'lab',
  cluster: 'c1',
  node: '1',
  modality: 'temperature',
  probability: 0.9,
  startsAt,
  endsAt: status === 'resolved' ? startsAt + 1000 : undefined,
  dashboardUrl: 'http://127.0.0.1:8080/node/lab/1',
});

describe('MemoryResultStore', () => {
  it('joins frames and scores of the same tick into one point per node', async () => {
    const store = new MemoryResultStore();
    await store.write({ frames: [frame(1000, 20)], scores: [score(1000, 0.9)], alerts: [] });
    const latest = await store.latestNodes('lab');
    expect(latest.map((p) => p.node)).toEqual(['1', '2']);
    expect(latest[0]).toMatchObject({
      tick: 1000,
      values: { temperature: 20, humidity: null },
      probability: 0.9,
      isAnomaly: true,
    });
    expect(latest[1]).toMatchObject({ staleTicks: 2, probability: 0.1 });
    expect(await store.networks()).toEqual(['lab']);
    expect((await store.latestScores('lab')).map((s) => s.tick)).toEqual([1000]);
  });

  it('gives a node history with values, reconstruction and errors, only for scored ticks', async () => {
    const store = new MemoryResultStore();
    await store.write({ frames: [frame(1000, 20), frame(2000, 21)], scores: [score(2000, 0.9)], alerts: [] });
    const history = await store.nodeHistory('lab', '1');
    expect(history).toEqual([
      expect.objectContaining({
        tick: 2000,
        values: { temperature: 21, humidity: null },
        reconstruction: { temperature: 19.5, humidity: 41 },
        reconstructionError: { temperature: 0.5, humidity: 0.1 },
      }),
    ]);
    const other = await store.nodeHistory('lab', '2');
    expect(other[0].reconstruction).toEqual({ temperature: null, humidity: null });
  });

  it('rewriting the same ticks replaces points instead of adding them (replay is idempotent)', async () => {
    const store = new MemoryResultStore();
    const batch = {
      frames: [frame(1000, 20), frame(2000, 21)],
      scores: [score(1000, 0.2), score(2000, 0.3)],
      alerts: [],
    };
    await store.write(batch);
    await store.write(batch);
    expect((await store.nodeHistory('lab', '1')).map((p) => p.tick)).toEqual([1000, 2000]);
    expect((await store.clusterHistory('lab', 'c1')).map((p) => p.probability)).toEqual([0.2, 0.3]);
  });

  it('keeps history in tick order, honours the limit and drops the oldest beyond capacity', async () => {
    const store = new MemoryResultStore({ historyPerNode: 3 });
    for (const tick of [4000, 1000, 3000, 2000])
      await store.write({ frames: [frame(tick, tick / 1000)], scores: [score(tick, 0.1)], alerts: [] });
    expect((await store.nodeHistory('lab', '1')).map((p) => p.tick)).toEqual([2000, 3000, 4000]);
    expect((await store.nodeHistory('lab', '1', 1)).map((p) => p.tick)).toEqual([4000]);
    expect(await store.nodeHistory('lab', '99')).toEqual([]);
    expect((await store.latestScores('lab'))[0].tick).toBe(4000);
  });

  it('keeps one alert per id in its latest state', async () => {
    const store = new MemoryResultStore();
    await store.write({ frames: [], scores: [], alerts: [alert('firing', 1000)] });
    expect((await store.alerts('lab')).map((a) => a.status)).toEqual(['firing']);
    await store.write({ frames: [], scores: [], alerts: [alert('resolved', 1000)] });
    expect(await store.alerts()).toEqual([
      expect.objectContaining({ id: 'lab/c1/1', status: 'resolved', endsAt: 2000 }),
    ]);
    expect(await store.alerts('elsewhere')).toEqual([]);
  });

  it('tells subscribers what changed, and stops after unsubscribing', async () => {
    const store = new MemoryResultStore();
    const seen: ResultChange[] = [];
    const stop = store.subscribe((change) => seen.push(change));
    await store.write({ frames: [frame(1000, 20)], scores: [score(1000, 0.4)], alerts: [alert('firing', 1000)] });
    stop();
    await store.write({ frames: [frame(2000, 20)], scores: [score(2000, 0.4)], alerts: [] });
    expect(seen.map((c) => c.kind)).toEqual(['scores', 'alert']);
    expect(seen[0]).toEqual({ kind: 'scores', network: 'lab', cluster: 'c1', tick: 1000 });
  });
});
