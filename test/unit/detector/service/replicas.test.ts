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

async function processed(service: DetectorService): Promise<number> {
  const metric = await service.metrics.frames.get();
  return metric.values.filter((v) => v.labels.outcome === 'processed').reduce((sum, v) => sum + v.value, 0);
}

const running: DetectorService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

describe('detector replicas on the in-process transport', () => {
  it('share clusters, hand them over on a graceful stop without a lost or repeated tick, and match an uninterrupted run', async () => {
    const transport = new MemoryTransport({ maxBatchSize: 7, logger });
    await transport.ensureTopics([{ topic: 'frames', partitions: 4 }]);
    const producer = await transport.producer();
    const store = new MemoryResultStore();
    const start = async (replicaId: string): Promise<DetectorService> => {
      const service = await startFakeDetector({ config, transport, store, framePartitions: 4, replicaId, logger });
      running.push(service);
      return service;
    };
    const publish = (frames: Frame[]) =>
      producer.send(
        'frames',
        frames.map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame) })),
      );
    const ticks = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

    const a = await start('a');
    await publish(framesAt(ticks(1, 10)));
    await waitFor('a to process ticks 1-10', async () => (await processed(a)) === 60);

    const b = await start('b');
    await publish(framesAt(ticks(11, 15)));
    await waitFor('ticks 11-15', async () => (await processed(a)) + (await processed(b)) === 90);
    expect(a.processor.clusters().length).toBeGreaterThan(0);
    expect(b.processor.clusters().length).toBeGreaterThan(0);
    expect(a.processor.clusters().length + b.processor.clusters().length).toBe(CLUSTERS.length);

    await a.stop();
    await publish(framesAt(ticks(16, 20)));
    await waitFor('b to take over ticks 16-20', async () => (await processed(a)) + (await processed(b)) === 120);
    expect(b.processor.clusters().sort()).toEqual(CLUSTERS);

    // Every tick of every cluster processed exactly once, with the state carried over:
    // the scores equal those of one processor that saw the whole stream.
    const reference = await new FrameProcessor({
      model: new FakeModel(),
      policy: alertPolicyFromConfig(config),
    }).process(framesAt(ticks(1, 20)));
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
});
