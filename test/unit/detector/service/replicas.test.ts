import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../common/config.ts';
import { createLogger } from '../../../../common/log.ts';
import type { Frame } from '../../../../common/types.ts';
import { alertPolicyFromConfig } from '../../../../detector/alerts/tracker.ts';
import type { DetectorService } from '../../../../detector/service/service.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { MemoryResultStore } from '../../../../store/memory.ts';
import { MemoryTransport } from '../../../../transport/index.ts';
import { FakeModel, frameOf } from './fake-model.ts';
import { startFakeDetector } from './fake-detector.ts';
import { countOf } from '../../../support/metrics.ts';
import { waitFor } from '../../../support/wait.ts';

const T = 31_000;
const CLUSTERS = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
const config = loadConfig({ env: {} });
const logger = createLogger('test', 'silent');

function framesAt(ticks: number[]): Frame[] {
  return ticks.flatMap((t) =>
    CLUSTERS.map((cluster, c) => frameOf(cluster, t * T, { '1': 1 + ((t + c) % 5), '2': t % 7 === 0 ? 25 : 2 })),
  );
}

const processed = (service: DetectorService): Promise<number> =>
  countOf(service.metrics.frames, { outcome: 'processed' });

const running: DetectorService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

/** Scored ticks in the store, all clusters (the store keys a point by tick, so a replayed tick counts once). */
async function storedTicks(store: MemoryResultStore): Promise<number> {
  let total = 0;
  for (const cluster of CLUSTERS) total += (await store.clusterHistory('lab', cluster)).length;
  return total;
}

describe('detector replicas on the in-process transport', () => {
  // 0: checkpoint and commit after every batch, so even a rebalance replays nothing.
  // 1 hour: checkpoints only on the graceful stop; the rebalance when b joins hands a's
  // partitions over from the last commit, and b replays them from the start.
  for (const checkpointIntervalMs of [0, 3_600_000]) {
    it(`share clusters, hand them over on a graceful stop and match an uninterrupted run (checkpoint interval ${checkpointIntervalMs} ms)`, async () => {
      const transport = new MemoryTransport({ maxBatchSize: 7, logger });
      await transport.ensureTopics([{ topic: 'frames', partitions: 4 }]);
      const producer = await transport.producer();
      const store = new MemoryResultStore();
      const replicaConfig = { ...config, detector: { ...config.detector, checkpointIntervalMs } };
      const start = async (replicaId: string): Promise<DetectorService> => {
        const service = await startFakeDetector({
          config: replicaConfig,
          transport,
          store,
          framePartitions: 4,
          replicaId,
          logger,
        });
        running.push(service);
        return service;
      };
      const publish = (frames: Frame[]) =>
        producer.send(
          'frames',
          frames.map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame) })),
        );
      const ticks = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

      // What one processor that saw the whole stream scores.
      const reference = await new FrameProcessor({
        model: new FakeModel(),
        policy: alertPolicyFromConfig(config),
      }).process(framesAt(ticks(1, 20)));
      const scoredThrough = (tick: number) => reference.scores.filter((score) => score.tick <= tick * T).length;

      const a = await start('a');
      await publish(framesAt(ticks(1, 10)));
      await waitFor('a to process ticks 1-10', async () => (await processed(a)) === 60);

      const b = await start('b');
      await publish(framesAt(ticks(11, 15)));
      await waitFor(
        'ticks 11-15',
        async () => (await storedTicks(store)) === scoredThrough(15) && (await processed(b)) > 0,
      );
      expect(a.processor.clusters().length).toBeGreaterThan(0);
      expect(b.processor.clusters().length).toBeGreaterThan(0);
      expect(a.processor.clusters().length + b.processor.clusters().length).toBe(CLUSTERS.length);

      await a.stop();
      const processedBeforeHandover = (await processed(a)) + (await processed(b));
      await publish(framesAt(ticks(16, 20)));
      await waitFor('b to take over ticks 16-20', async () => (await storedTicks(store)) === scoredThrough(20));
      expect(b.processor.clusters().sort()).toEqual(CLUSTERS);
      // The graceful stop wrote a's pending checkpoints: b scored each of ticks 16-20 once, replaying nothing of a's.
      await waitFor(
        'b to finish the last batch',
        async () => (await processed(b)) >= processedBeforeHandover - (await processed(a)) + 30,
      );
      expect((await processed(a)) + (await processed(b))).toBe(processedBeforeHandover + 30);
      if (checkpointIntervalMs === 0) expect(processedBeforeHandover).toBe(90);
      else expect(processedBeforeHandover).toBeGreaterThan(90);

      // Every tick of every cluster scored, with the state carried over: the scores equal the reference's.
      for (const cluster of CLUSTERS) {
        const history = await store.clusterHistory('lab', cluster);
        const expected = reference.scores.filter((s) => s.cluster === cluster);
        expect(history.map((p) => p.tick)).toEqual(expected.map((s) => s.tick));
        expect(history.map((p) => p.probability)).toEqual(expected.map((s) => s.probability));
      }
      expect(reference.alerts.length).toBeGreaterThan(0);
      const alerts = await store.alerts('lab');
      expect(alerts.map((alert) => alert.id).sort()).toEqual(
        [...new Set(reference.alerts.map((alert) => alert.id))].sort(),
      );
      // The scores went out on the anomalies topic too (at least once per tick).
      expect(transport.endOffsets('anomalies').reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(
        reference.scores.length,
      );
    });
  }
});
