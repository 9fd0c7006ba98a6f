import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../../common/log.ts';
import type { IncomingBatch } from '../../../../common/transport.ts';
import type { Frame } from '../../../../common/types.ts';
import type { AlertRouter } from '../../../../detector/alerts/router.ts';
import { processBatches, type BatchContext } from '../../../../detector/service/batch.ts';
import type { CheckpointCadence } from '../../../../detector/service/checkpoint-cadence.ts';
import { DetectorMetrics } from '../../../../detector/service/metrics.ts';
import type { ClusterOwnership } from '../../../../detector/service/ownership.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { frameMessage } from '../../../../ingest/pipeline.ts';
import { TickGather } from '../../../../detector/service/tick-gather.ts';
import { MemoryResultStore } from '../../../../store/memory.ts';
import { countOf, histogramOf } from '../../../support/metrics.ts';
import { testPolicy } from '../alerts/sample-alert.ts';
import { FakeModel, frameOf } from './fake-model.ts';

const T = 31_000;
const frame = (cluster: string, tick: number): Frame => frameOf(cluster, tick * T, { '1': 1 + (tick % 3), '2': 2 });

/** One partition's batch of frames as ingest publishes them (key and headers), ending at its partition's end. */
function batchOf(partition: number, frames: Frame[], withHeaders = true): IncomingBatch {
  return {
    topic: 'frames',
    partition,
    messages: frames.map((f, i) => ({
      topic: 'frames',
      partition,
      offset: String(i),
      key: f.cluster,
      value: Buffer.from(JSON.stringify(f)),
      headers: withHeaders ? (frameMessage(f).headers ?? {}) : {},
      timestamp: Date.now(),
    })),
    highWatermark: String(frames.length),
  };
}

/** A hand-over's context on the fake model, with no checkpoints, routes or ownership changes. */
async function warmContext(): Promise<{ context: BatchContext; processor: FrameProcessor }> {
  const processor = new FrameProcessor({ model: new FakeModel(), policy: testPolicy() });
  const warm = await processor.process([1, 2, 3].flatMap((tick) => [frame('c0', tick), frame('c1', tick)]));
  warm.settle();
  const context: BatchContext = {
    replicaId: 'r',
    tickMs: T,
    processor,
    ownership: { restoreIfReassigned: async () => undefined, seen: () => undefined } as unknown as ClusterOwnership,
    sink: new MemoryResultStore(),
    router: { route: async () => undefined } as unknown as AlertRouter,
    cadence: { afterBatch: async () => true, touch: () => undefined } as unknown as CheckpointCadence,
    maxFramesPerRun: 512,
    gather: new TickGather(1_500, T),
    metrics: new DetectorMetrics(),
    logger: createLogger('test', 'silent'),
  };
  return { context, processor };
}

describe('a hand-over waiting for the rest of its tick, with more than one fetch', () => {
  it("takes the batch another fetch handed over meanwhile and scores the tick's frames together, answering both", async () => {
    const { context, processor } = await warmContext();
    let looks = 0;
    const answers = await processBatches(context, [batchOf(0, [frame('c0', 4)])], () =>
      looks++ === 0 ? [batchOf(1, [frame('c1', 4)])] : [],
    );
    expect(answers).toEqual([undefined, undefined]);
    expect(processor.lastTick('c0')).toBe(4 * T);
    expect(processor.lastTick('c1')).toBe(4 * T);
    expect(await countOf(context.metrics.tickGather, { outcome: 'taken' })).toBe(1);
    expect(await countOf(context.metrics.tickGather, { outcome: 'again' })).toBe(0);
    expect((await histogramOf(context.metrics.handOverFrames)).count).toBe(1);
  });

  it('answers every batch again when nothing else came, and scores nothing', async () => {
    const { context, processor } = await warmContext();
    const answers = await processBatches(context, [batchOf(0, [frame('c0', 4)])], () => []);
    expect(answers).toEqual([{ again: true }]);
    expect(processor.lastTick('c0')).toBe(3 * T);
  });

  it('decides the wait on the keys and tick headers: a hand-over answered again decodes no frame', async () => {
    const { context } = await warmContext();
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const answers = await processBatches(context, [batchOf(0, [frame('c0', 4)])], () => []);
      expect(answers).toEqual([{ again: true }]);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it('reads the tick of a message without the tick header from its frame, and waits as for the others', async () => {
    const { context, processor } = await warmContext();
    const answers = await processBatches(context, [batchOf(0, [frame('c0', 4)], false)], () => []);
    expect(answers).toEqual([{ again: true }]);
    expect(processor.lastTick('c0')).toBe(3 * T);
  });

  it('does not wait on a batch that stopped short of its partition’s end', async () => {
    const { context, processor } = await warmContext();
    const short = { ...batchOf(0, [frame('c0', 4)]), highWatermark: '5' };
    const answers = await processBatches(context, [short], () => []);
    expect(answers).toEqual([undefined]);
    expect(processor.lastTick('c0')).toBe(4 * T);
  });
});
