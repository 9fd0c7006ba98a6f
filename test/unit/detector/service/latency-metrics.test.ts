import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../common/config.ts';
import { createLogger } from '../../../../common/log.ts';
import type { Frame } from '../../../../common/types.ts';
import type { DetectorService } from '../../../../detector/service/service.ts';
import { FIRST_ARRIVAL_HEADER } from '../../../../ingest/pipeline.ts';
import { MemoryResultStore } from '../../../../store/memory.ts';
import type { ResultBatch } from '../../../../store/sink.ts';
import { MemoryTransport } from '../../../../transport/index.ts';
import { countOf, histogramOf } from '../../../support/metrics.ts';
import { waitFor } from '../../../support/wait.ts';
import { frameOf } from './fake-model.ts';
import { startFakeDetector } from './fake-detector.ts';

const config = loadConfig({ env: {} });
const T = config.ingest.tickMs;
const logger = createLogger('test', 'silent');
const running: DetectorService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

/** A detector on a memory transport whose frames topic has `partitions`, handing over at most `maxBatchSize` frames. */
async function startLatencyDetector(
  partitions: number,
  maxBatchSize: number,
  store = new MemoryResultStore(),
): Promise<{
  service: DetectorService;
  store: MemoryResultStore;
  send: (frames: Frame[], headers?: (frame: Frame) => Record<string, string>) => Promise<void>;
}> {
  const transport = new MemoryTransport({ maxBatchSize, logger });
  await transport.ensureTopics([{ topic: 'frames', partitions }]);
  const producer = await transport.producer();
  const service = await startFakeDetector({ config, transport, store, framePartitions: partitions, logger });
  running.push(service);
  const send = async (frames: Frame[], headers: (frame: Frame) => Record<string, string> = () => ({})) => {
    await producer.send(
      'frames',
      frames.map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame), headers: headers(frame) })),
    );
  };
  return { service, store, send };
}

describe('detector latency metrics', () => {
  it('observe tick close → score and → alert for every score and alert, and first reading arrival → score for frames that carry it', async () => {
    const { service, store, send } = await startLatencyDetector(2, 50);
    // 20 ticks of 2 clusters, the last one closed a second ago; tick 7 and 14 anomalous (alerts).
    const published = Date.now();
    const base = Math.floor(published / T) * T - 21 * T;
    const frames: Frame[] = [];
    for (let t = 1; t <= 20; t++)
      for (const cluster of ['c0', 'c1'])
        frames.push(frameOf(cluster, base + t * T, { '1': 1 + (t % 5), '2': t % 7 === 0 ? 25 : 2 }));
    // Only cluster c0's frames say when their first reading arrived: 3 s before publishing.
    await send(frames, (frame): Record<string, string> =>
      frame.cluster === 'c0' ? { [FIRST_ARRIVAL_HEADER]: String(published - 3_000) } : {},
    );
    await waitFor(
      'the 40 frames to be scored',
      async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) >= 40,
      20_000,
      20,
    );
    const finished = Date.now();
    // Scores exist once the model's window is full: one observation per stored score.
    const scores = [...(await store.clusterHistory('lab', 'c0')), ...(await store.clusterHistory('lab', 'c1'))];
    expect(scores.length).toBeGreaterThan(20);
    const closes = scores.map((s) => s.tick + T);
    const toScore = await histogramOf(service.metrics.tickCloseToScore);
    expect(toScore.count).toBe(scores.length);
    // Each observation lies between (publish − close) and (finish − close).
    expect(toScore.sum).toBeGreaterThanOrEqual(closes.reduce((n, c) => n + (published - c) / 1000, 0));
    expect(toScore.sum).toBeLessThanOrEqual(closes.reduce((n, c) => n + (finished - c) / 1000, 0));
    const arrival = await histogramOf(service.metrics.arrivalToScore);
    const c0 = scores.filter((s) => s.cluster === 'c0').length;
    expect(c0).toBeGreaterThan(0);
    expect(arrival.count).toBe(c0);
    expect(arrival.sum).toBeGreaterThanOrEqual(c0 * 3);
    expect(arrival.sum).toBeLessThanOrEqual((c0 * (finished - published + 3_000)) / 1000);
    const alerts = await service.metrics.alerts.get();
    const transitions = alerts.values.reduce((n, v) => n + v.value, 0);
    expect(transitions).toBeGreaterThan(0);
    expect((await histogramOf(service.metrics.tickCloseToAlert)).count).toBe(transitions);
  });

  it('split tick close → score into the ingest, queue and hand-over stages, which add up to it', async () => {
    const { service, store, send } = await startLatencyDetector(1, 50);
    const base = Math.floor(Date.now() / T) * T - 21 * T;
    const frames: Frame[] = [];
    for (let t = 1; t <= 20; t++)
      for (const cluster of ['c0', 'c1']) frames.push(frameOf(cluster, base + t * T, { '1': 1 + (t % 5), '2': 2 }));
    const published = Date.now();
    await send(frames);
    const sent = Date.now();
    await waitFor(
      'the 40 frames to be scored',
      async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) >= 40,
      20_000,
      20,
    );
    const finished = Date.now();
    const scores = [...(await store.clusterHistory('lab', 'c0')), ...(await store.clusterHistory('lab', 'c1'))];
    expect(scores.length).toBeGreaterThan(20);
    const closes = scores.map((score) => score.tick + T);
    const [ingest, queue, handOver] = await Promise.all(
      (['ingest', 'queue', 'hand-over'] as const).map((name) =>
        histogramOf(service.metrics.latencyStages, { stage: name }),
      ),
    );
    for (const observed of [ingest, queue, handOver]) expect(observed.count).toBe(scores.length);
    // Each frame's Kafka timestamp is its send time.
    expect(ingest.sum).toBeGreaterThanOrEqual(closes.reduce((n, c) => n + (published - c) / 1000, 0) - 0.001);
    expect(ingest.sum).toBeLessThanOrEqual(closes.reduce((n, c) => n + (sent - c) / 1000, 0) + 0.001);
    expect(queue.sum + handOver.sum).toBeLessThanOrEqual((scores.length * (finished - published)) / 1000);
    // Per score, the three stages add up to its tick close → score.
    const toScore = await histogramOf(service.metrics.tickCloseToScore);
    expect(ingest.sum + queue.sum + handOver.sum).toBeCloseTo(toScore.sum, 3);
    // Every frame handed over is counted in its hand-over, scored or skipped as scored before (a batch can come
    // again, as after the group's first rebalance here), and each hand-over is timed.
    const handOvers = await histogramOf(service.metrics.handOverFrames);
    expect(await countOf(service.metrics.frames, { outcome: 'processed' })).toBe(40);
    expect(handOvers.sum).toBe(await countOf(service.metrics.frames));
    expect(handOvers.count).toBeGreaterThanOrEqual(1);
    const handOverTimes = await histogramOf(service.metrics.handOverSeconds);
    expect(handOverTimes.count).toBe(handOvers.count);
    expect(handOverTimes.sum).toBeLessThanOrEqual((finished - published) / 1000);
  });

  it("observe each run's wait for the sinks, a failed write's too, and a run's latency once, when it is delivered", async () => {
    // A result store that answers each write 50 ms late, and counts them: one write per run that scored frames, and
    // one more for the first, which fails once (its run is scored and written again).
    let writes = 0;
    const store = new (class extends MemoryResultStore {
      override async write(batch: ResultBatch): Promise<void> {
        writes++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (writes === 1) throw new Error('store down');
        await super.write(batch);
      }
    })();
    const { service, send } = await startLatencyDetector(1, 10, store);
    const base = Math.floor(Date.now() / T) * T - 31 * T;
    const frames: Frame[] = [];
    for (let t = 1; t <= 30; t++) frames.push(frameOf('c0', base + t * T, { '1': 1 + (t % 5), '2': 2 }));
    const started = Date.now();
    await send(frames);
    // Every frame scored and the last write's wait observed (a write counts as it starts, its wait as it ends).
    await waitFor(
      'the 30 frames to be written',
      async () =>
        (await countOf(service.metrics.frames, { outcome: 'processed' })) >= 30 &&
        (await histogramOf(service.metrics.sinkSeconds)).count >= writes,
      20_000,
      20,
    );
    expect(writes).toBeGreaterThanOrEqual(4); // 30 frames in batches of at most 10, and the failed write
    const elapsed = (Date.now() - started) / 1000;
    const waited = await histogramOf(service.metrics.sinkSeconds);
    expect(waited.count).toBe(writes);
    expect(waited.sum).toBeGreaterThanOrEqual(writes * 0.05 - 0.001);
    expect(waited.sum).toBeLessThanOrEqual(elapsed);
    // The run whose write failed was scored twice, and is counted once: in the total and in each stage.
    const scored = (await histogramOf(service.metrics.tickCloseToScore)).count;
    expect(scored).toBeGreaterThan(0);
    for (const name of ['ingest', 'queue', 'hand-over'] as const)
      expect((await histogramOf(service.metrics.latencyStages, { stage: name })).count).toBe(scored);
  });
});
