import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../common/log.ts';
import { CHECKPOINT_CHUNK, CheckpointCadence } from '../../../../detector/service/checkpoint-cadence.ts';
import { DetectorMetrics } from '../../../../detector/service/metrics.ts';
import type { FrameProcessor } from '../../../../detector/service/processor.ts';
import type { ClusterCheckpoint } from '../../../../detector/state/checkpoint.ts';
import type { ClusterCheckpointStore } from '../../../../detector/state/store.ts';

/** A cadence over a processor that holds `held` and a store that records what it saves. */
function cadenceOf(intervalMs: number, held: Set<string>) {
  let now = 0;
  const saved: string[][] = [];
  const processor = {
    clusters: () => [...held],
    checkpoint: (cluster: string) => ({ cluster }) as ClusterCheckpoint,
  } as unknown as FrameProcessor;
  const checkpoints = {
    save: async (list: ClusterCheckpoint[]) => void saved.push(list.map((c) => c.cluster).sort()),
  } as unknown as ClusterCheckpointStore;
  const cadence = new CheckpointCadence({
    intervalMs,
    checkpoints,
    processor,
    metrics: new DetectorMetrics(),
    logger: createLogger('test', 'silent'),
    now: () => now,
  });
  return { cadence, saved, advance: (ms: number) => void (now += ms) };
}

describe('CheckpointCadence', () => {
  it("writes a partition's touched clusters together once its interval is over, and only then lets the offset commit", async () => {
    const { cadence, saved, advance } = cadenceOf(60_000, new Set(['a', 'b', 'c']));
    expect(await cadence.afterBatch(0, ['a'])).toBe(false);
    advance(30_000);
    expect(await cadence.afterBatch(0, ['b'])).toBe(false);
    expect(await cadence.afterBatch(1, ['c'])).toBe(false);
    expect(saved).toEqual([]);
    expect(cadence.pending()).toBe(3);
    advance(30_000);
    expect(await cadence.afterBatch(0, ['a'])).toBe(true);
    expect(saved).toEqual([['a', 'b']]);
    // Partition 1 started its interval 30 s later than partition 0.
    expect(await cadence.afterBatch(1, [])).toBe(false);
    advance(30_000);
    expect(await cadence.afterBatch(1, [])).toBe(true);
    expect(saved).toEqual([['a', 'b'], ['c']]);
    expect(cadence.pending()).toBe(0);
  });

  it('with interval 0 writes after every batch', async () => {
    const { cadence, saved } = cadenceOf(0, new Set(['a']));
    expect(await cadence.afterBatch(0, ['a'])).toBe(true);
    expect(await cadence.afterBatch(0, ['a'])).toBe(true);
    expect(saved).toEqual([['a'], ['a']]);
  });

  it('flushAll writes every pending cluster, leaves out the ones no longer held, and makes every later batch commit', async () => {
    const held = new Set(['a', 'b', 'c']);
    const { cadence, saved } = cadenceOf(60_000, held);
    await cadence.afterBatch(0, ['a', 'b']);
    await cadence.afterBatch(1, ['c']);
    held.delete('b'); // its partition went to another replica: that replica checkpoints it
    await cadence.flushAll();
    expect(saved).toEqual([['a'], ['c']]);
    expect(await cadence.afterBatch(0, ['a'])).toBe(true);
  });

  it('writes a partition of many clusters in chunks, every cluster once', async () => {
    const clusters = Array.from({ length: 2 * CHECKPOINT_CHUNK + 3 }, (_, i) => `c${i}`);
    const { cadence, saved } = cadenceOf(0, new Set(clusters));
    expect(await cadence.afterBatch(0, clusters)).toBe(true);
    expect(saved.map((chunk) => chunk.length)).toEqual([CHECKPOINT_CHUNK, CHECKPOINT_CHUNK, 3]);
    expect(saved.flat().sort()).toEqual([...clusters].sort());
  });
});
