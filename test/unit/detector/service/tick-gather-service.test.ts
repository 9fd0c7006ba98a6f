import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../common/config.ts';
import { createLogger } from '../../../../common/log.ts';
import type { Frame } from '../../../../common/types.ts';
import type { DetectorService } from '../../../../detector/service/service.ts';
import { MemoryResultStore } from '../../../../store/memory.ts';
import { MemoryTransport } from '../../../../transport/index.ts';
import { bucketOf, countOf } from '../../../support/metrics.ts';
import { waitFor } from '../../../support/wait.ts';
import { frameOf } from './fake-model.ts';
import { startFakeDetector } from './fake-detector.ts';

const base = loadConfig({ env: {} });
const T = base.ingest.tickMs;
const logger = createLogger('test', 'silent');
const running: DetectorService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

const CLUSTERS = ['c0', 'c1', 'c2'];
const tickFrames = (tick: number, clusters = CLUSTERS): Frame[] =>
  clusters.map((cluster) => frameOf(cluster, tick * T, { '1': 1 + (tick % 3), '2': 2 }));

/** A detector that has scored ticks 1..3 of every cluster; `send` publishes frames on its one frames partition. */
async function warmDetector(gatherMs: number) {
  const transport = new MemoryTransport({ maxBatchSize: 100, logger });
  await transport.ensureTopics([{ topic: 'frames', partitions: 1 }]);
  const producer = await transport.producer();
  const send = (frames: Frame[]) =>
    producer.send(
      'frames',
      frames.map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame), headers: {} })),
    );
  const service = await startFakeDetector({
    config: { ...base, detector: { ...base.detector, gatherMs } },
    transport,
    store: new MemoryResultStore(),
    framePartitions: 1,
    logger,
  });
  running.push(service);
  await send([1, 2, 3].flatMap((tick) => tickFrames(tick)));
  await waitFor(
    'ticks 1..3 scored',
    async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) >= 9,
    10_000,
    10,
  );
  return { service, send };
}

describe('a hand-over waits for the rest of its tick (detector.gatherMs)', () => {
  it("holds a tick's first frame until the others come, then scores them in one hand-over", async () => {
    const { service, send } = await warmDetector(1_500);
    await send(tickFrames(4, ['c0']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await send(tickFrames(4, ['c1', 'c2']));
    await waitFor(
      'tick 4 scored',
      async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) >= 12,
      10_000,
      10,
    );
    expect(await bucketOf(service.metrics.handOverFrames, 1)).toBe(0);
    expect(await countOf(service.metrics.tickGather, { outcome: 'again' })).toBeGreaterThanOrEqual(1);
    expect(await countOf(service.metrics.tickGather, { outcome: 'incomplete' })).toBe(0);
  });

  it('with gatherMs 0, scores the first frame alone', async () => {
    const { service, send } = await warmDetector(0);
    await send(tickFrames(4, ['c0']));
    await waitFor(
      'c0 at tick 4 scored',
      async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) >= 10,
      10_000,
      10,
    );
    await send(tickFrames(4, ['c1', 'c2']));
    await waitFor(
      'tick 4 scored',
      async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) >= 12,
      10_000,
      10,
    );
    expect(await bucketOf(service.metrics.handOverFrames, 1)).toBe(1);
    expect(await countOf(service.metrics.tickGather, { outcome: 'again' })).toBe(0);
  });

  it('goes on without a cluster whose frame does not come, after one step', async () => {
    const { service, send } = await warmDetector(1_500);
    await send(tickFrames(4, ['c0', 'c1']));
    await waitFor(
      'tick 4 of c0 and c1 scored',
      async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) >= 11,
      10_000,
      10,
    );
    // One step of 250 ms and one look after it that brought nothing more, not six steps to the whole 1.5 s.
    expect(await countOf(service.metrics.tickGather, { outcome: 'again' })).toBe(1);
    expect(await countOf(service.metrics.tickGather, { outcome: 'incomplete' })).toBe(1);
  });
});
