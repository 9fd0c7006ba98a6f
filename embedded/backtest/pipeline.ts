/**
 * The live path in one process, without a broker and without pacing: the
 * ingest pipeline (decode, validate, align on event-time ticks, fill gaps)
 * hands its frames straight to the detector's frame processor and alert
 * tracker. Only the transport is left out; every decision on the way is made
 * by the same objects the services run.
 */
import type { Config } from '../../common/config.ts';
import type { Logger } from '../../common/log.ts';
import type { OutgoingMessage, TransportProducer } from '../../common/transport.ts';
import type { Alert, ClusterScore, Frame, Reading } from '../../common/types.ts';
import type { AlertPolicy } from '../../detector/alerts/tracker.ts';
import { decodeFrame } from '../../detector/service/frames.ts';
import type { StreamingModel } from '../../detector/service/model.ts';
import { FrameProcessor, type AdjacencyProvider } from '../../detector/service/processor.ts';
import { MemoryCheckpointStore } from '../../ingest/checkpoint.ts';
import type { NodeDirectory } from '../../ingest/directory.ts';
import { IngestMetrics } from '../../ingest/metrics.ts';
import { IngestPipeline } from '../../ingest/pipeline.ts';
import { readingMessage } from '../../sources/publish.ts';

/** Topic names the captured messages carry (nothing is sent anywhere). */
const READINGS = 'backtest.readings';
const FRAMES = 'backtest.frames';
const DLQ = 'backtest.dlq';

/** Readings handed to ingest per batch: what one Kafka fetch of a busy partition holds. */
const BATCH_READINGS = 500;

export interface TickResult {
  tick: number;
  frames: Frame[];
  scores: ClusterScore[];
  alerts: Alert[];
}

export interface Rejected {
  /** Index of the reading in the input (0-based). */
  index: number;
  node: string;
  ts: number;
  code: string;
  reason: string;
}

export interface BacktestPipelineOptions {
  config: Config;
  directory: NodeDirectory;
  model: StreamingModel;
  policy: AlertPolicy;
  adjacency?: AdjacencyProvider;
  logger: Logger;
}

/** Keeps what ingest publishes instead of sending it. */
class CapturingProducer implements TransportProducer {
  frames: Frame[] = [];
  rejected: Array<{ reason: string; code: string; offset: number }> = [];
  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    for (const message of messages) {
      const value = Buffer.isBuffer(message.value) ? message.value : Buffer.from(message.value);
      if (topic === FRAMES) {
        const decoded = decodeFrame(value);
        if (!decoded.ok) throw new Error(`ingest produced a frame the detector cannot read: ${decoded.reason}`);
        this.frames.push(decoded.frame);
      } else if (topic === DLQ) {
        const headers = message.headers ?? {};
        this.rejected.push({
          code: headers['x-wsn-error-code'] ?? '?',
          reason: headers['x-wsn-error'] ?? '?',
          offset: Number(headers['x-wsn-source-offset'] ?? -1),
        });
      }
    }
  }
  async close(): Promise<void> {}
}

/**
 * Feeds readings (in event-time order) through ingest and the detector.
 * `onTick` hears every tick once, in order, with what it produced.
 */
export class BacktestPipeline {
  private readonly producer = new CapturingProducer();
  private readonly ingest: IngestPipeline;
  readonly processor: FrameProcessor;
  private offset = 0;
  private pendingFrames: Frame[] = [];
  readonly rejected: Rejected[] = [];
  accepted = 0;

  constructor(private readonly options: BacktestPipelineOptions) {
    this.ingest = new IngestPipeline({
      ingest: options.config.ingest,
      directory: options.directory,
      producer: this.producer,
      metrics: new IngestMetrics(),
      checkpoints: new MemoryCheckpointStore(),
      logger: options.logger,
      topics: { readings: READINGS, readingsDlq: DLQ, frames: FRAMES },
      // History is in the past by definition; only the tick grid matters.
      now: () => Number.MAX_SAFE_INTEGER / 2,
    });
    this.processor = new FrameProcessor({ model: options.model, policy: options.policy, adjacency: options.adjacency });
  }

  /** Sends a batch of readings through ingest, then scores every tick ingest closed. */
  async push(readings: Reading[], onTick: (result: TickResult) => void | Promise<void>): Promise<void> {
    for (let i = 0; i < readings.length; i += BATCH_READINGS) {
      const slice = readings.slice(i, i + BATCH_READINGS);
      const first = this.offset;
      const messages = slice.map((reading, k) => {
        const message = readingMessage(reading);
        return {
          topic: READINGS,
          partition: 0,
          offset: String(first + k),
          key: message.key,
          value: Buffer.from(message.value as string),
          headers: {},
          timestamp: 0,
        };
      });
      this.offset += slice.length;
      const before = this.producer.rejected.length;
      const outcome = await this.ingest.handleBatch({
        topic: READINGS,
        partition: 0,
        messages,
        highWatermark: String(this.offset),
      });
      this.accepted += outcome.accepted;
      for (const rejection of this.producer.rejected.slice(before)) {
        const reading = slice[rejection.offset - first];
        this.rejected.push({
          index: rejection.offset,
          node: reading?.node ?? '?',
          ts: reading?.ts ?? NaN,
          code: rejection.code,
          reason: rejection.reason,
        });
      }
      await this.scoreReady(onTick);
    }
  }

  /** End of the history: event time moves to the end of the last reading's tick so ingest closes every open tick. */
  async finish(onTick: (result: TickResult) => void | Promise<void>): Promise<void> {
    const last = this.ingest.maxEventTs;
    if (last !== null) {
      const { tickMs, allowedLatenessMs } = this.options.config.ingest;
      // The watermark reaches the end of the last reading's tick, and no further: no empty tick after the data.
      await this.ingest.advanceTo(Math.floor(last / tickMs) * tickMs + tickMs + allowedLatenessMs);
    }
    await this.scoreReady(onTick);
  }

  /** Scores the captured frames tick by tick (all clusters of a tick in one model call, as the detector does). */
  private async scoreReady(onTick: (result: TickResult) => void | Promise<void>): Promise<void> {
    this.pendingFrames.push(...this.producer.frames);
    this.producer.frames = [];
    if (this.pendingFrames.length === 0) return;
    const byTick = new Map<number, Frame[]>();
    for (const frame of this.pendingFrames) {
      let list = byTick.get(frame.tick);
      if (!list) byTick.set(frame.tick, (list = []));
      list.push(frame);
    }
    this.pendingFrames = [];
    for (const tick of [...byTick.keys()].sort((a, b) => a - b)) {
      const frames = byTick.get(tick)!;
      const result = await this.processor.process(frames);
      await onTick({ tick, frames: result.frames, scores: result.scores, alerts: result.alerts });
    }
  }
}
