import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../common/config.ts';
import { createLogger } from '../../../../common/log.ts';
import { alertPolicyFromConfig } from '../../../../detector/alerts/tracker.ts';
import { DetectorMetrics } from '../../../../detector/service/metrics.ts';
import { ClusterOwnership } from '../../../../detector/service/ownership.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { TableCheckpointStore, type ClusterCheckpointStore } from '../../../../detector/state/store.ts';
import { MemoryTransport } from '../../../../transport/index.ts';
import { partitionForKey } from '../../../../transport/partitioner.ts';
import { FakeModel, frameOf } from './fake-model.ts';

const T = 31_000;
const PARTITIONS = 4;
const CLUSTERS = Array.from({ length: 12 }, (_, i) => `c${i}`);
const config = loadConfig({ env: {} });
const logger = createLogger('test', 'silent');

const framesAt = (tick: number) => CLUSTERS.map((cluster) => frameOf(cluster, tick * T, { '1': 1 + tick, '2': 2 }));
const processor = () => new FrameProcessor({ model: new FakeModel(), policy: alertPolicyFromConfig(config) });

describe('cluster ownership after a rebalance', () => {
  it('reloads only the checkpoints of clusters whose frames come from the partitions it owns, and resumes them', async () => {
    const transport = new MemoryTransport({ logger });
    const store = new TableCheckpointStore(transport.table({ topic: 'state', partitions: 1 }), logger);
    const before = processor();
    for (const tick of [1, 2, 3]) await before.process(framesAt(tick));
    await store.save(CLUSTERS.map((cluster) => before.checkpoint(cluster)));

    const loaded: string[][] = [];
    const watched: ClusterCheckpointStore = {
      start: () => store.start(),
      save: (checkpoints) => store.save(checkpoints),
      close: () => store.close(),
      loadAll: async (keep) => {
        const checkpoints = await store.loadAll(keep);
        loaded.push([...checkpoints.keys()].sort());
        return checkpoints;
      },
    };
    const after = processor();
    const ownership = new ClusterOwnership({
      processor: after,
      checkpoints: watched,
      metrics: new DetectorMetrics(),
      logger,
      replicaId: 'b',
      framePartitions: () => Promise.resolve(PARTITIONS),
    });
    ownership.assigned([0, 2]);
    await ownership.restoreIfReassigned();

    const owned = CLUSTERS.filter((cluster) => [0, 2].includes(partitionForKey(cluster, PARTITIONS))).sort();
    // Both kinds are present, or the test would show nothing.
    expect(owned.length).toBeGreaterThan(0);
    expect(owned.length).toBeLessThan(CLUSTERS.length);
    expect(loaded).toEqual([owned]);
    // Tick 3 again: the owned clusters have it in their checkpoint and skip it; the others start fresh and score it.
    const replay = await after.process(framesAt(3));
    expect(replay.skipped).toBe(owned.length);
    // Tick 4 goes on from the restored state: the same scores as the replica that never stopped.
    const resumed = await after.process(framesAt(4).filter((frame) => owned.includes(frame.cluster)));
    const uninterrupted = await before.process(framesAt(4).filter((frame) => owned.includes(frame.cluster)));
    expect(resumed.scores).toEqual(uninterrupted.scores);

    // The same assignment again reads nothing; a new one reads the newly owned clusters too.
    await ownership.restoreIfReassigned();
    expect(loaded).toHaveLength(1);
    ownership.assigned([0, 1, 2, 3]);
    await ownership.restoreIfReassigned();
    expect(loaded[1]).toEqual([...CLUSTERS].sort());
  });
});
