import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../common/config.ts';
import { createLogger } from '../../../../common/log.ts';
import type { IncomingBatch } from '../../../../common/transport.ts';
import type { Frame } from '../../../../common/types.ts';
import { framesInRuns, HEARTBEAT_EVERY_MS } from '../../../../detector/service/batch.ts';
import { startDetectorService, type DetectorService } from '../../../../detector/service/service.ts';
import { TableCheckpointStore } from '../../../../detector/state/store.ts';
import { MemoryResultStore } from '../../../../store/memory.ts';
import type { ResultBatch, ResultSink } from '../../../../store/sink.ts';
import { MemoryTransport } from '../../../../transport/index.ts';
import { countOf } from '../../../support/metrics.ts';
import { waitFor } from '../../../support/wait.ts';
import { FakeModel, frameOf } from './fake-model.ts';

const T = 31_000;
const CLUSTERS = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
const logger = createLogger('test', 'silent');

const running: DetectorService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

/**
 * A detector on `transport` with the fake model, frames in runs of `maxFramesPerRun`, checkpointing and committing
 * after every hand-over (so the checkpoints show which clusters were saved with the commit).
 */
async function startDetector(
  transport: MemoryTransport,
  sink: ResultSink,
  checkpoints: TableCheckpointStore,
  maxFramesPerRun: number,
  model = new FakeModel(),
): Promise<DetectorService> {
  const base = loadConfig({ env: {} });
  const service = await startDetectorService({
    config: { ...base, detector: { ...base.detector, maxFramesPerRun, checkpointIntervalMs: 0 } },
    transport,
    model,
    sink,
    checkpoints,
    groupId: 'detectors',
    topics: { frames: 'frames', anomalies: 'anomalies', alerts: 'alerts' },
    framePartitions: 1,
    alertmanager: false,
    httpPort: null,
    logger,
  });
  running.push(service);
  return service;
}

describe('runs of at most detector.maxFramesPerRun frames', () => {
  it('splits frames in order, a cluster keeping its tick order', () => {
    const frames = [1, 2, 3].flatMap((t) => CLUSTERS.map((cluster) => frameOf(cluster, t * T, { '1': 1 })));
    const runs = framesInRuns(frames, 4);
    expect(runs.map((run) => run.length)).toEqual([4, 4, 4, 4, 2]);
    expect(runs.flat()).toEqual(frames);
  });

  it('delivers each run on its own; a failed run is scored again, the runs before it are not, and their clusters are checkpointed', async () => {
    const transport = new MemoryTransport({ maxBatchSize: 100, logger });
    await transport.ensureTopics([{ topic: 'frames', partitions: 1 }]);
    const store = new MemoryResultStore();
    // The second sink write fails once, as a write to an InfluxDB that is down would.
    const writes: Array<{ clusters: string[]; failed: boolean }> = [];
    const sink: ResultSink = {
      name: 'flaky',
      write: async (batch: ResultBatch) => {
        const failed = writes.length === 1;
        writes.push({ clusters: batch.frames.map((frame) => frame.cluster), failed });
        if (failed) throw new Error('sink down');
        await store.write(batch);
      },
      close: async () => undefined,
    };
    const checkpoints = new TableCheckpointStore(transport.table({ topic: 'state', partitions: 1 }), logger);
    const service = await startDetector(transport, sink, checkpoints, 4);

    // One tick of six clusters, handed over as one batch: runs c0-c3 and c4-c5.
    const frames: Frame[] = CLUSTERS.map((cluster, c) => frameOf(cluster, T, { '1': 1 + c, '2': 2 }));
    const producer = await transport.producer();
    await producer.send(
      'frames',
      frames.map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame) })),
    );
    await waitFor(
      'every cluster scored',
      async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) === 6,
    );

    expect(writes).toEqual([
      { clusters: ['c0', 'c1', 'c2', 'c3'], failed: false },
      { clusters: ['c4', 'c5'], failed: true },
      { clusters: ['c4', 'c5'], failed: false },
    ]);
    // The batch came again: the first run's frames were skipped as scored, not scored and written twice.
    expect(await countOf(service.metrics.frames, { outcome: 'skipped' })).toBe(4);
    // The commit that passed the tick came with a checkpoint of every cluster, those of the first run too.
    await waitFor('the checkpoints', async () => (await checkpoints.loadAll()).size === CLUSTERS.length, 10_000);
    const saved = await checkpoints.loadAll();
    expect([...saved.keys()].sort()).toEqual(CLUSTERS);
    for (const checkpoint of saved.values()) expect(checkpoint.lastTick).toBe(T);
  });

  describe('the next run is scored while a run is delivered', () => {
    /** Steps of a detector with runs of 4 frames: `score N` (a model call of N clusters), `write N` and `written N`. */
    async function pipelined(
      frames: Frame[],
      writeRun: (frames: number, steps: string[]) => Promise<void>,
    ): Promise<{
      steps: string[];
      service: DetectorService;
      checkpoints: TableCheckpointStore;
    }> {
      const steps: string[] = [];
      const transport = new MemoryTransport({ maxBatchSize: 100, logger });
      await transport.ensureTopics([{ topic: 'frames', partitions: 1 }]);
      const store = new MemoryResultStore();
      const sink: ResultSink = {
        name: 'steps',
        write: async (batch: ResultBatch) => {
          steps.push(`write ${batch.frames.length}`);
          await writeRun(batch.frames.length, steps);
          await store.write(batch);
          steps.push(`written ${batch.frames.length}`);
        },
        close: async () => undefined,
      };
      const model = new FakeModel();
      const step = model.step.bind(model);
      model.step = (inputs) => {
        steps.push(`score ${inputs.length}`);
        return step(inputs);
      };
      const checkpoints = new TableCheckpointStore(transport.table({ topic: 'state', partitions: 1 }), logger);
      const service = await startDetector(transport, sink, checkpoints, 4, model);
      const producer = await transport.producer();
      await producer.send(
        'frames',
        frames.map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame) })),
      );
      await waitFor(
        'every frame scored',
        async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) === frames.length,
      );
      return { steps, service, checkpoints };
    }

    /** Resolves once `steps` holds `step` `times` times, or after `ms` (a run not scored meanwhile shows in the order). */
    const until = async (steps: string[], step: string, { times = 1, ms = 5_000 } = {}): Promise<void> => {
      const deadline = Date.now() + ms;
      while (steps.filter((seen) => seen === step).length < times && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 5));
    };

    const oneTick = CLUSTERS.map((cluster, c) => frameOf(cluster, T, { '1': 1 + c, '2': 2 }));

    it('scores a run while the run before is written, and writes in run order', async () => {
      // The first run's write lasts until the second run is scored (or 5 s, when it is not).
      const { steps } = await pipelined(oneTick, (frames, steps) =>
        frames === 4 ? until(steps, 'score 2') : Promise.resolve(),
      );
      expect(steps).toEqual(['score 4', 'write 4', 'score 2', 'written 4', 'write 2', 'written 2']);
    });

    it('a run holding a cluster of the run being written waits for the write', async () => {
      // Two ticks of three clusters: the first run holds c0-c2 at T and c0 at 2T, the second c1 and c2 at 2T.
      const twoTicks = [1, 2].flatMap((t) =>
        CLUSTERS.slice(0, 3).map((cluster) => frameOf(cluster, t * T, { '1': t })),
      );
      const { steps } = await pipelined(twoTicks, (frames, steps) =>
        frames === 4 ? until(steps, 'score 2', { ms: 300 }) : Promise.resolve(),
      );
      expect(steps).toEqual(['score 3', 'score 1', 'write 4', 'written 4', 'score 2', 'write 2', 'written 2']);
    });

    it('when a write fails, the run scored beside it goes back too; both come again and end as a clean run', async () => {
      let attempts = 0;
      const { steps, service, checkpoints } = await pipelined(oneTick, async (frames, steps) => {
        if (frames !== 4) return;
        attempts += 1;
        await until(steps, 'score 2', { times: attempts });
        if (attempts === 1) throw new Error('sink down');
      });
      expect(steps).toEqual([
        'score 4',
        'write 4',
        'score 2',
        'score 4',
        'write 4',
        'score 2',
        'written 4',
        'write 2',
        'written 2',
      ]);
      // Nothing was skipped as scored: the second run was rolled back with the first, so it was scored and written.
      expect(await countOf(service.metrics.frames, { outcome: 'skipped' })).toBe(0);
      await waitFor('the checkpoints', async () => (await checkpoints.loadAll()).size === CLUSTERS.length, 10_000);
      const saved = await checkpoints.loadAll();
      for (const checkpoint of saved.values()) expect(checkpoint.lastTick).toBe(T);
      // Each cluster's state went through its tick once, as without the failure.
      const reference = await pipelined(oneTick, async () => undefined);
      await waitFor(
        'the reference checkpoints',
        async () => (await reference.checkpoints.loadAll()).size === CLUSTERS.length,
        10_000,
      );
      const clean = await reference.checkpoints.loadAll();
      for (const [cluster, checkpoint] of saved) expect(checkpoint.state).toEqual(clean.get(cluster)?.state);
    });
  });

  describe('heartbeats while one hand-over is worked on', () => {
    const MANY = Array.from({ length: 40 }, (_, c) => `c${c}`);

    /** A detector on the in-process transport whose batches carry `heartbeat`, with every step in `steps`. */
    /** With `restoreMs`, the first read of the checkpoints (the restore after the assignment) takes that long. */
    async function heartbeatingDetector(
      steps: string[],
      heartbeat: () => Promise<void>,
      restoreMs = 0,
    ): Promise<DetectorService> {
      const transport = new MemoryTransport({ maxBatchSize: 100, logger });
      // The state topic made before the detector joins: a topic made while a hand-over is in flight rebalances the
      // group, and the hand-over would be delivered again.
      await transport.ensureTopics([
        { topic: 'frames', partitions: 1 },
        { topic: 'state', partitions: 1, compact: true },
      ]);
      const subscribe = transport.subscribe.bind(transport);
      transport.subscribe = (options) =>
        subscribe({ ...options, onBatch: (batch: IncomingBatch) => options.onBatch({ ...batch, heartbeat }) });
      const store = new MemoryResultStore();
      const sink: ResultSink = {
        name: 'recording',
        write: async (batch: ResultBatch) => {
          steps.push(`write ${batch.frames.length}`);
          await store.write(batch);
        },
        close: async () => undefined,
      };
      const checkpoints = new TableCheckpointStore(transport.table({ topic: 'state', partitions: 1 }), logger);
      const loadAll = checkpoints.loadAll.bind(checkpoints);
      let restored = false;
      checkpoints.loadAll = async () => {
        if (!restored && restoreMs > 0) {
          steps.push('restore');
          await new Promise((resolve) => setTimeout(resolve, restoreMs));
        }
        restored = true;
        return loadAll();
      };
      const save = checkpoints.save.bind(checkpoints);
      checkpoints.save = async (saved) => {
        steps.push(`checkpoint ${saved.length}`);
        await save(saved);
      };
      const service = await startDetector(transport, sink, checkpoints, 16);
      const producer = await transport.producer();
      await producer.send(
        'frames',
        MANY.map((cluster) => frameOf(cluster, T, { '1': 1, '2': 2 })).map((frame) => ({
          key: frame.cluster,
          value: JSON.stringify(frame),
        })),
      );
      await waitFor(
        'every cluster scored',
        async () => (await countOf(service.metrics.frames, { outcome: 'processed' })) === MANY.length,
      );
      await waitFor('the checkpoints', async () => (await checkpoints.loadAll()).size === MANY.length, 10_000);
      return service;
    }

    it('beats between runs and between checkpoint chunks, so no step waits longer than one run or one chunk', async () => {
      const steps: string[] = [];
      await heartbeatingDetector(steps, async () => {
        steps.push('heartbeat');
      });
      // 40 clusters: runs of 16, 16 and 8 frames, then checkpoints in chunks of 16, 16 and 8.
      expect(steps).toEqual([
        'write 16',
        'heartbeat',
        'write 16',
        'heartbeat',
        'write 8',
        'heartbeat',
        'checkpoint 16',
        'heartbeat',
        'checkpoint 16',
        'heartbeat',
        'checkpoint 8',
      ]);
    });

    it('beats every second while the checkpoints are read again after a rebalance', async () => {
      const steps: string[] = [];
      await heartbeatingDetector(
        steps,
        async () => {
          steps.push('heartbeat');
        },
        HEARTBEAT_EVERY_MS * 3.5,
      );
      const restoring = steps.slice(0, steps.indexOf('write 16'));
      expect(restoring[0]).toBe('restore');
      // Three are due in 3.5 s; a timer delayed on a loaded machine may make it two, never none.
      expect(restoring.filter((step) => step === 'heartbeat').length).toBeGreaterThanOrEqual(2);
    });

    it('goes on when a heartbeat fails (the group is rebalancing), without beating again in that hand-over', async () => {
      const steps: string[] = [];
      const service = await heartbeatingDetector(steps, async () => {
        steps.push('heartbeat');
        throw new Error('The group is rebalancing, so a rejoin is needed');
      });
      expect(steps.filter((step) => step === 'heartbeat')).toHaveLength(1);
      expect(steps.filter((step) => step.startsWith('write'))).toEqual(['write 16', 'write 16', 'write 8']);
      expect(await countOf(service.metrics.frames, { outcome: 'skipped' })).toBe(0);
    });
  });
});
