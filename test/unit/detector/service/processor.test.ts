import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../common/errors.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../../../detector/state/checkpoint.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { firingNodes, testPolicy } from '../alerts/sample-alert.ts';
import { FakeModel, frameOf } from './fake-model.ts';

const policy = testPolicy();
const T = 31_000;

/** Ticks 1..count of cluster c with a slowly varying temperature per node. */
function series(cluster: string, count: number, nodes = ['1', '2'], from = 1) {
  return Array.from({ length: count }, (_, i) =>
    frameOf(cluster, (from + i) * T, Object.fromEntries(nodes.map((node, j) => [node, 1 + ((from + i + j) % 4)]))),
  );
}

describe('FrameProcessor: alert localization on the graph', () => {
  // Node 1 is faulty (hot); its neighbour 2 and the far node 3 both run warm (probability about 0.8).
  const frames = Array.from({ length: 8 }, (_, i) => frameOf('a', (i + 1) * T, { '1': 20, '2': 8, '3': 8 }));
  const edges = [
    [0, 1, 0],
    [1, 0, 0],
    [0, 0, 0],
  ];

  it('with the live topology: the neighbour of the faulty node does not alert, the far node does', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy, adjacency: () => edges });
    const result = await processor.process(frames);
    expect(firingNodes(result.alerts)).toEqual(['1', '3']);
    // The scores' isAnomaly (InfluxDB is_anomaly, which Grafana reads) agrees: the dominated neighbour is not anomalous.
    const last = result.scores.at(-1)!.nodes;
    expect(Object.fromEntries(last.map((n) => [n.node, n.isAnomaly]))).toEqual({ '1': true, '2': false, '3': true });
    expect(last.find((n) => n.node === '2')!.probability).toBeGreaterThan(policy.threshold);
  });

  it("without a live topology, the model's training graph says who is a neighbour", async () => {
    const model = Object.assign(new FakeModel(), { graph: { nodes: ['1', '2', '3'], adjacency: edges } });
    const result = await new FrameProcessor({ model, policy }).process(frames);
    expect(firingNodes(result.alerts)).toEqual(['1', '3']);
  });

  it('works the training graph out once per node list, not per frame, and again when the list changes', async () => {
    const seen: Array<number[][] | undefined> = [];
    const model = Object.assign(new FakeModel(), { graph: { nodes: ['1', '2', '3'], adjacency: edges } });
    const step = model.step.bind(model);
    model.step = (batch) => {
      seen.push(...batch.map((input) => input.adjacency));
      return step(batch);
    };
    const processor = new FrameProcessor({ model, policy });
    await processor.process(frames.slice(0, 3));
    // Node 3 leaves the cluster from the fourth tick.
    const without3 = [4, 5].map((t) => frameOf('a', t * T, { '1': 20, '2': 8 }));
    await processor.process(without3);
    expect(seen).toHaveLength(5);
    expect(seen[0]).toEqual(edges);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBe(seen[0]);
    expect(seen[3]).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(seen[4]).toBe(seen[3]);
  });

  it('without any graph, the whole cluster is the neighbourhood: only the faulty node alerts', async () => {
    const result = await new FrameProcessor({ model: new FakeModel(), policy }).process(frames);
    expect(firingNodes(result.alerts)).toEqual(['1']);
  });
});

describe('FrameProcessor', () => {
  it('scores clusters that have a tick ready together in one model call per round', async () => {
    const model = new FakeModel();
    const processor = new FrameProcessor({ model, policy });
    const frames = [...series('a', 4), ...series('b', 2), ...series('c', 4)];
    const result = await processor.process(frames);
    expect(model.calls).toEqual([3, 3, 2, 2]);
    expect(result.modelCalls.map((call) => call.clusters)).toEqual([3, 3, 2, 2]);
    expect(result.frames).toHaveLength(10);
    // window 3: scores from each cluster's third tick on
    expect(result.scores.map((s) => `${s.cluster}@${s.tick / T}`).sort()).toEqual(['a@3', 'a@4', 'c@3', 'c@4']);
  });

  it('skips frames at or before the last processed tick, and duplicates within a batch', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    await processor.process(series('a', 5));
    const replay = await processor.process([...series('a', 5, ['1', '2'], 3), series('a', 1, ['1', '2'], 7)[0]]);
    expect(replay.skipped).toBe(4); // ticks 3, 4, 5 and the second tick 7
    expect(replay.frames.map((f) => f.tick / T)).toEqual([6, 7]);
    expect(processor.lastTick('a')).toBe(7 * T);
  });

  it('continues from a checkpoint exactly as an uninterrupted run would (state, dedup, alerts)', async () => {
    // node 3 runs hot for ticks 6..8, so an alert fires and resolves around the cut at tick 6.
    const frames = Array.from({ length: 14 }, (_, i) =>
      frameOf('a', (i + 1) * T, { '1': 1 + (i % 3), '2': 2, '3': i >= 5 && i <= 7 ? 20 : 1 }),
    );
    const reference = new FrameProcessor({ model: new FakeModel(), policy });
    await reference.process(frames.slice(0, 6));
    const expected = await reference.process(frames.slice(6));
    expect(expected.alerts.map((a) => a.status)).toEqual(['firing', 'resolved']);

    const first = new FrameProcessor({ model: new FakeModel(), policy });
    await first.process(frames.slice(0, 6));
    const wire = encodeCheckpoint(first.checkpoint('a'));
    const second = new FrameProcessor({ model: new FakeModel(), policy });
    second.adoptCheckpoints(new Map([['a', decodeCheckpoint(Buffer.from(wire))]]));
    // The whole stream is redelivered (offsets were not committed): the first six ticks are skipped.
    const resumed = await second.process(frames);
    expect(resumed.skipped).toBe(6);
    expect(resumed.scores).toEqual(expected.scores);
    expect(resumed.alerts).toEqual(expected.alerts);
  });

  it("carries the threshold's false-alert budget in the checkpoint, so a restored cluster judges as an uninterrupted one", async () => {
    // A budget with a tiny allowance: the healthy excursions of nodes 1 and 2 (about 0.6) soon raise the threshold.
    const budgeted = {
      ...policy,
      falseAlertBudget: {
        prior: { level: 0.3, excursions: 1, ratePerNodeTick: 0.01, scale: 0.2, budgetPerNodeTick: 1e-4 },
        halfLifeTicks: 50,
        perNodeDay: 0.1,
      },
    };
    const frames = Array.from({ length: 40 }, (_, i) =>
      frameOf('a', (i + 1) * T, { '1': 4 + (i % 12 === 0 ? 6 : 0), '2': 2 + (i % 9 === 0 ? 6 : 0) }),
    );
    const reference = new FrameProcessor({ model: new FakeModel(), policy: budgeted });
    await reference.process(frames.slice(0, 25));
    const expected = await reference.process(frames.slice(25));

    const first = new FrameProcessor({ model: new FakeModel(), policy: budgeted });
    await first.process(frames.slice(0, 25));
    const checkpoint = decodeCheckpoint(Buffer.from(encodeCheckpoint(first.checkpoint('a'))));
    expect(checkpoint.alertBudget?.exposure).toBeGreaterThan(0);
    const second = new FrameProcessor({ model: new FakeModel(), policy: budgeted });
    second.adoptCheckpoints(new Map([['a', checkpoint]]));
    const resumed = await second.process(frames.slice(25));
    expect(resumed.scores).toEqual(expected.scores);
    expect(resumed.alerts).toEqual(expected.alerts);
    expect(second.checkpoint('a').alertBudget).toEqual(reference.checkpoint('a').alertBudget);
    // Without the budget in the checkpoint the restored cluster starts again from the stored calibration.
    const { alertBudget, ...withoutBudget } = checkpoint;
    expect(alertBudget).toBeDefined();
    const fresh = new FrameProcessor({ model: new FakeModel(), policy: budgeted });
    fresh.adoptCheckpoints(new Map([['a', withoutBudget]]));
    await fresh.process(frames.slice(25));
    expect(fresh.checkpoint('a').alertBudget).not.toEqual(reference.checkpoint('a').alertBudget);
  });

  it('a checkpoint survives encoding bit for bit', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy, now: () => 42 });
    await processor.process(series('a', 5));
    const checkpoint = processor.checkpoint('a');
    const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint));
    expect(decoded).toEqual(checkpoint);
    expect(decoded.state.windows).toBeInstanceOf(Float32Array);
  });

  it('replaces a cluster held in memory when a checkpoint is further along (another replica processed it)', async () => {
    const frames = series('a', 8);
    const stale = new FrameProcessor({ model: new FakeModel(), policy });
    await stale.process(frames.slice(0, 3));
    const other = new FrameProcessor({ model: new FakeModel(), policy });
    await other.process(frames.slice(0, 6));
    const { restored } = stale.adoptCheckpoints(new Map([['a', other.checkpoint('a')]]));
    expect(restored).toEqual(['a']);
    expect(stale.lastTick('a')).toBe(6 * T);
    const older = new FrameProcessor({ model: new FakeModel(), policy });
    await older.process(frames.slice(0, 2));
    expect(stale.adoptCheckpoints(new Map([['a', older.checkpoint('a')]])).restored).toEqual([]);
    expect(stale.lastTick('a')).toBe(6 * T);
  });

  it('resizes a cluster when nodes join or leave, keeping the history of nodes that stay', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    await processor.process([frameOf('a', T, { '1': 1, '2': 2 }), frameOf('a', 2 * T, { '1': 1, '2': 3 })]);
    const joined = await processor.process([frameOf('a', 3 * T, { '1': 1, '2': 4, '3': 9 })]);
    expect(joined.scores[0].nodes.map((n) => n.node)).toEqual(['1', '2', '3']);
    let state = processor.checkpoint('a').state;
    // node 2's window (normalized temperature) kept its history: 0.2, 0.3, 0.4
    expect(Array.from(state.windows.subarray(6, 9)).map((v) => Number(v.toFixed(3)))).toEqual([0.2, 0.3, 0.4]);
    await processor.process([frameOf('a', 4 * T, { '2': 5, '3': 9 })]);
    state = processor.checkpoint('a').state;
    expect(state.nodes).toEqual(['2', '3']);
    expect(Array.from(state.windows.subarray(0, 3)).map((v) => Number(v.toFixed(3)))).toEqual([0.3, 0.4, 0.5]);
  });

  it('fires an alert after k ticks above the threshold and a silent alert for a silent node', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    const frames = [1, 2, 3, 4, 5].map((t) =>
      frameOf('a', t * T, { '1': t >= 3 ? 20 : 0, '2': 0 }, t === 5 ? ['2'] : []),
    );
    const result = await processor.process(frames);
    const nodeOne = result.scores.map((s) => s.nodes[0]);
    expect(nodeOne.map((n) => n.isAnomaly)).toEqual([true, true, true]);
    expect(
      result.alerts.map(
        (a) => `${a.node}:${a.kind}:${a.status}@${a.status === 'firing' ? a.startsAt / T : a.endsAt! / T}`,
      ),
    ).toEqual(['1:anomaly:firing@3', '2:silent:firing@5']);
    expect(result.alerts[0].modality).toBe('temperature');
    expect(processor.firingAlerts()).toHaveLength(2);
  });

  it('rollback puts touched clusters back, so a redelivered batch is processed again', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    await processor.process(series('a', 3));
    const failed = await processor.process(series('a', 2, ['1', '2'], 4));
    failed.rollback();
    expect(processor.lastTick('a')).toBe(3 * T);
    const again = await processor.process(series('a', 2, ['1', '2'], 4));
    expect(again.frames).toHaveLength(2);
    expect(again.scores).toEqual(failed.scores);
    const fresh = await new FrameProcessor({ model: new FakeModel(), policy }).process(series('b', 1));
    fresh.rollback();
  });

  it('a cluster dropped while its batch can still be rolled back stays dropped when the batch rolls back', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    await processor.process([...series('a', 3), ...series('b', 3)]);
    const failed = await processor.process([...series('a', 2, ['1', '2'], 4), ...series('b', 2, ['1', '2'], 4)]);
    processor.drop('a');
    failed.rollback();
    expect(processor.clusters()).toEqual(['b']);
    expect(processor.lastTick('a')).toBeUndefined();
    expect(processor.lastTick('b')).toBe(3 * T);
  });

  it('refuses frames that lack a modality the model needs, naming both sides', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    const frame = {
      ...frameOf('a', T, { '1': 1 }),
      nodes: [{ node: '1', values: { temperature: 1, light: 3 }, staleTicks: 0, silent: false }],
    };
    const error = await processor.process([frame]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('MODEL_MISMATCH');
    expect((error as UserError).message).toMatch(/missing: humidity/);
    expect(processor.clusters()).toEqual([]);
  });
});
