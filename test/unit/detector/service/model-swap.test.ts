import { describe, expect, it } from 'vitest';
import type { AlertPolicy } from '../../../../detector/alerts/tracker.ts';
import { FrameProcessor, STALE_AFTER_TICKS } from '../../../../detector/service/processor.ts';
import type { ModelSlot } from '../../../../detector/service/model-swap.ts';
import type { ClusterScore, Frame } from '../../../../common/types.ts';
import { FakeModel, frameOf } from './fake-model.ts';

const T = 31_000;
const policy = (threshold: number): AlertPolicy => ({
  threshold,
  resolveThreshold: threshold / 2,
  alertAfterTicks: 2,
  resolveAfterTicks: 2,
  dashboardUrl: () => 'http://dash',
});

/** Another version: the same network shape, other "weights" (its normalization halves the values once more). */
class OtherModel extends FakeModel {
  override normalizeValues(nodes: string[], raw: Float32Array): Float32Array {
    return super.normalizeValues(nodes, raw).map((value) => value * 2);
  }
}

function frames(cluster: string, from: number, to: number): Frame[] {
  return Array.from({ length: to - from + 1 }, (_, i) => {
    const tick = from + i;
    return frameOf(cluster, tick * T, { '1': 1 + (tick % 5), '2': 2 + ((tick * 3) % 4) });
  });
}

const key = (score: ClusterScore): string => `${score.cluster}@${score.tick / T}`;

describe('model swap in the frame processor', () => {
  it('warms the new version up beside the old one and switches every cluster at one tick, no tick lost or repeated', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy: policy(0.5), version: 'v1', tickMs: T });
    const scores: ClusterScore[] = [];
    const run = async (batch: Frame[]): Promise<void> => {
      processor.settle();
      scores.push(...(await processor.process(batch)).scores);
    };
    await run([...frames('a', 1, 10), ...frames('b', 1, 8)]);
    const slot: ModelSlot = { version: 'v2', model: new OtherModel(), policy: policy(0.9) };
    const plan = processor.promote(slot, 4);
    // The newest processed tick is 10: warm-up from 11, the new version scores from 15 on.
    expect(plan).toMatchObject({ kind: 'scheduled', swap: { startTick: 11 * T, switchTick: 15 * T } });
    // Batches split unevenly across the clusters, as partitions deliver them.
    await run(frames('a', 11, 13));
    await run(frames('b', 9, 16));
    await run(frames('a', 14, 20));
    const switched = (await processor.process(frames('b', 17, 20))).scores;
    scores.push(...switched);

    // Every tick of every cluster once (the window of 3 fills at tick 3).
    const expected = ['a', 'b'].flatMap((cluster) => Array.from({ length: 18 }, (_, i) => `${cluster}@${i + 3}`));
    expect(scores.map(key).sort()).toEqual(expected.sort());
    // The version tag switches at tick 15 for both clusters.
    for (const score of scores) expect(score.model, key(score)).toBe(score.tick < 15 * T ? 'v1' : 'v2');

    // From the switch on, the scores are those of the new version having run from tick 11: its state was warm.
    const reference = new FrameProcessor({ model: new OtherModel(), policy: policy(0.9), version: 'v2' });
    const warm = (await reference.process([...frames('a', 11, 20), ...frames('b', 11, 20)])).scores;
    const byKey = new Map(warm.map((score) => [key(score), score]));
    for (const score of scores.filter((s) => s.tick >= 15 * T))
      expect(score.nodes.map((n) => n.probability)).toEqual(byKey.get(key(score))?.nodes.map((n) => n.probability));
    // The new version's threshold is in force from the switch.
    for (const score of scores.filter((s) => s.tick >= 15 * T))
      for (const node of score.nodes) if (node.isAnomaly) expect(node.probability).toBeGreaterThan(0.9);
    expect(processor.checkpoint('a').model).toBe('v2');

    // Once every cluster is on v2 and the switch tick has passed, the swap is over.
    expect(processor.settle().finished?.to.version).toBe('v2');
    expect(processor.swapInProgress()).toBeUndefined();
  });

  it('switches at once before any cluster is held, and queues a promotion that comes during a swap', async () => {
    let disposed = 0;
    const processor = new FrameProcessor({
      model: new FakeModel(),
      policy: policy(0.5),
      version: 'v1',
      tickMs: T,
      disposeModel: () => (disposed += 1),
    });
    const v2: ModelSlot = {
      version: 'v2',
      model: new OtherModel(),
      policy: policy(0.6),
      dispose: () => (disposed += 10),
    };
    expect(processor.promote(v2, 4).kind).toBe('immediate');
    expect(disposed).toBe(1);
    const first = await processor.process(frames('a', 1, 5));
    expect(new Set(first.scores.map((s) => s.model))).toEqual(new Set(['v2']));

    const v3: ModelSlot = { version: 'v3', model: new FakeModel(), policy: policy(0.7) };
    const v4: ModelSlot = { version: 'v4', model: new OtherModel(), policy: policy(0.8) };
    expect(processor.promote(v3, 2)).toMatchObject({ kind: 'scheduled', swap: { switchTick: 8 * T } });
    expect(processor.promote(v4, 2).kind).toBe('queued');
    expect(processor.modelVersion).toBe('v4');
    const second = await processor.process(frames('a', 6, 9));
    expect(second.switched).toEqual([{ cluster: 'a', from: 'v2', to: 'v3', tick: 8 * T }]);
    const { finished, next } = processor.settle();
    expect(finished?.to.version).toBe('v3');
    expect(disposed).toBe(11);
    // v4 warms up from tick 10 for 2 ticks.
    expect(next).toMatchObject({ kind: 'scheduled', swap: { startTick: 10 * T, switchTick: 12 * T } });
    const third = await processor.process(frames('a', 10, 13));
    expect(third.scores.map((s) => `${s.tick / T}:${s.model}`)).toEqual(['10:v3', '11:v3', '12:v4', '13:v4']);
  });

  it('a failed batch puts the cluster back on the version it had, with its warming state', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy: policy(0.5), version: 'v1', tickMs: T });
    await processor.process(frames('a', 1, 6));
    processor.promote({ version: 'v2', model: new OtherModel(), policy: policy(0.9) }, 2);
    const failed = await processor.process(frames('a', 7, 10));
    expect(failed.switched).toHaveLength(1);
    failed.rollback();
    expect(processor.checkpoint('a').model).toBe('v1');
    const again = await processor.process(frames('a', 7, 10));
    expect(again.scores.map((s) => `${s.tick / T}:${s.model}`)).toEqual(['7:v1', '8:v1', '9:v2', '10:v2']);
    expect(again.scores.map((s) => s.nodes[0].probability)).toEqual(failed.scores.map((s) => s.nodes[0].probability));
  });

  it('a checkpoint of another version of the same shape is carried into the version in use, and said so', async () => {
    const before = new FrameProcessor({ model: new FakeModel(), policy: policy(0.5), version: 'v1', tickMs: T });
    await before.process(frames('a', 1, 6));
    const after = new FrameProcessor({ model: new OtherModel(), policy: policy(0.9), version: 'v2', tickMs: T });
    const adopted = after.adoptCheckpoints(new Map([['a', before.checkpoint('a')]]));
    expect(adopted.carried).toEqual(['a']);
    const next = await after.process(frames('a', 5, 8));
    expect(next.skipped).toBe(2);
    expect(next.scores.map((s) => `${s.tick / T}:${s.model}`)).toEqual(['7:v2', '8:v2']);
  });

  it('a cluster that stopped getting frames does not hold the swap open for ever', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy: policy(0.5), version: 'v1', tickMs: T });
    await processor.process([...frames('a', 1, 10), ...frames('b', 1, 8)]);
    processor.promote({ version: 'v2', model: new OtherModel(), policy: policy(0.9) }, 4);
    // b sends nothing more (its nodes left the topology); a goes on past the switch tick 15.
    await processor.process(frames('a', 11, 20));
    expect(processor.settle()).toEqual({ forced: [] });
    await processor.process(frames('a', 21, 20 + STALE_AFTER_TICKS));
    const { finished, forced } = processor.settle();
    expect(forced).toEqual(['b']);
    expect(finished?.to.version).toBe('v2');
    expect(processor.checkpoint('b').model).toBe('v2');
  });
});
