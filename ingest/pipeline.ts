import type { Config } from '../common/config.ts';
import type { Logger } from '../common/log.ts';
import type { IncomingBatch, OutgoingMessage, TransportProducer } from '../common/transport.ts';
import type { Frame } from '../common/types.ts';
import { Aligner, type AlignerOptions } from './align.ts';
import { SerialQueue } from './serial.ts';
import { skipReporter } from './skip-report.ts';
import type { CheckpointStore, IngestCheckpoint, JournalOp, StoredCheckpoint } from './checkpoint.ts';
import { alignBatch } from './batch-align.ts';
import type { DecodeOptions } from './decode.ts';
import { forgetArrivals, sendStep } from './dlq.ts';
import type { NodeDirectory } from './directory.ts';
import { plausibilityLimits } from './plausibility.ts';
import type { IngestMetrics } from './metrics.ts';
import { DEFAULT_INGEST_TOPICS, type IngestTopicNames } from './topics.ts';

/**
 * The ingest pipeline, without the consumer loop: one batch of `wsn.readings`
 * in, DLQ messages and frames out, then a journal entry (see checkpoint.ts).
 * Batches are handled one at a time (the aligner spans all partitions). If
 * publishing fails, the aligner goes back to the last checkpoint and the error
 * propagates, so the transport redelivers the batch and the same frames come
 * out again.
 */
export interface IngestPipelineOptions {
  ingest: Config['ingest'];
  directory: NodeDirectory;
  producer: TransportProducer;
  metrics: IngestMetrics;
  checkpoints: CheckpointStore;
  logger: Logger;
  now?: () => number;
  /** Output topics (default: the design's wsn.readings.dlq and wsn.frames). */
  topics?: IngestTopicNames;
  /** Readings further than this ahead of the clock are rejected as `future` (default validation.maxFutureTicks ticks). */
  maxFutureMs?: number;
  /** Future skew and plausible ranges (default: the configuration's defaults). */
  validation?: Config['validation'];
  /**
   * Write a full snapshot once the journal holds this many readings (default:
   * twice the network's nodes, at least 10,000): a snapshot costs in
   * proportion to the network, so spacing them in proportion to it keeps the
   * checkpoint work per reading the same at any network size.
   */
  snapshotEveryReadings?: number;
}

/** Most journal entries between snapshots, whatever they hold (idle partitions append small ones every few seconds). */
const MAX_JOURNAL_ENTRIES = 5_000;

export { DLQ_HEADERS, FIRST_ARRIVAL_HEADER, TICK_HEADER, dlqMessage, frameMessage } from './dlq.ts';

export interface BatchOutcome {
  accepted: number;
  rejected: number;
  /** Already in the checkpointed state (redelivered after a restart). */
  skipped: number;
  /** Readings of another network, passed over. */
  otherNetwork: number;
  frames: number;
}

export class IngestPipeline {
  private aligner: Aligner;
  private directory: NodeDirectory;
  /** Offsets of the last saved checkpoint (snapshot + journal). */
  private checkpointOffsets: Record<string, string> = {};
  private maxEventTsSaved: number | null = null;
  /** Generation of the last snapshot; the journal since it: entries and readings. */
  private generation = 0;
  private journalEntries = 0;
  private journalReadings = 0;
  /** What the aligner did in the step in progress, journalled once its frames are published. */
  private pendingOps: JournalOp[] = [];
  /** Tick → wall-clock time its first reading arrived (open ticks only; not checkpointed: a latency measure, not state). */
  private readonly firstArrivals = new Map<number, number>();
  private readonly queue = new SerialQueue();
  private readonly decodeOptions: DecodeOptions;
  /** Wall-clock time of the last batch per source (`topic:partition`), for idleness. */
  private readonly lastBatchAt = new Map<string, number>();
  /** Sources whose last batch did not reach the partition's end: they lag, they are not idle. */
  private readonly lagging = new Set<string>();
  /** Wall-clock time of the last batch of any source, and since when batches have been flowing without a quiet gap. */
  private lastAnyBatchAt: number | null = null;
  private flowingSince = 0;
  /** Max event time at the previous markIdle call. */
  private previousMaxEventTs: number | null = null;
  private onSkip: AlignerOptions['onSkip'];

  constructor(private readonly options: IngestPipelineOptions) {
    this.directory = options.directory;
    const restored = options.checkpoints.load();
    if (restored && restored.snapshot.network !== options.directory.network) {
      throw new Error(`checkpoint is for network "${restored.snapshot.network}", not "${options.directory.network}"`);
    }
    this.aligner = this.restore(restored);
    if (restored) {
      options.logger.info(
        {
          offsets: this.checkpointOffsets,
          nextTick: restored.snapshot.aligner.nextTick,
          journalEntries: restored.journal.length,
        },
        'restored ingest checkpoint',
      );
    } else {
      this.snapshot(); // the journal needs a snapshot to follow
    }
    this.decodeOptions = {
      defaultNetwork: options.directory.network,
      maxMessageBytes: options.ingest.maxMessageBytes,
      precision: options.ingest.lineProtocolPrecision,
      directory: options.directory,
      maxFutureMs: options.maxFutureMs ?? (options.validation?.maxFutureTicks ?? 3) * options.ingest.tickMs,
      now: options.now ?? Date.now,
      plausibility: plausibilityLimits(options.validation?.plausibility),
    };
  }

  /** Event-time watermark, UTC ms (null before the first reading). */
  get watermark(): number | null {
    return this.aligner.watermark;
  }

  /** Max event time seen (null before the first reading). */
  get maxEventTs(): number | null {
    return this.maxEventTsSaved;
  }

  /** Switches to a new topology (from the wsn.topology follower). */
  setDirectory(directory: NodeDirectory): Promise<void> {
    return this.queue.run(async () => {
      this.directory = directory;
      this.decodeOptions.directory = directory;
      this.aligner.setDirectory(directory);
      // A journal cannot replay a topology change: start a new snapshot from here.
      this.trySnapshot();
    });
  }

  /** Writes a full snapshot now (graceful shutdown: the next start replays nothing). */
  checkpoint(): Promise<void> {
    return this.queue.run(async () => this.trySnapshot());
  }

  /** The partitions this consumer now owns: each holds the watermark until it delivers or goes idle. */
  assign(sources: string[], now = Date.now()): Promise<void> {
    return this.queue.run(async () => {
      for (const source of sources) if (!this.lastBatchAt.has(source)) this.lastBatchAt.set(source, now);
      for (const source of [...this.lastBatchAt.keys()]) if (!sources.includes(source)) this.lastBatchAt.delete(source);
      this.pendingOps.push({ op: 'sources', sources });
      await this.publish([], this.aligner.setSources(sources), {});
    });
  }

  /**
   * Moves sources that delivered nothing for `idleMs` (counted from their last
   * batch, or from when batches started flowing again after a quiet spell) and
   * were caught up at their last batch (a partition that lags is slow, not
   * idle) up to the max event time
   * seen at the previous call (not the current one: batches of the other
   * partitions from the same fetch may still be on their way), and publishes
   * the frames that were waiting on them. Call it periodically.
   */
  markIdle(now: number, idleMs: number): Promise<number> {
    return this.queue.run(async () => {
      const upTo = this.previousMaxEventTs;
      this.previousMaxEventTs = this.aligner.maxEventTs;
      const frames: Frame[] = [];
      const idle: string[] = [];
      for (const [source, at] of this.lastBatchAt) {
        if (now - Math.max(at, this.flowingSince) >= idleMs && !this.lagging.has(source)) {
          idle.push(source);
          frames.push(...this.aligner.setIdle(source, upTo));
        }
      }
      if (idle.length > 0) {
        this.pendingOps.push({ op: 'idle', sources: idle, upTo });
        await this.publish([], frames, {});
      }
      return frames.length;
    });
  }

  handleBatch(batch: IncomingBatch): Promise<BatchOutcome> {
    return this.queue.run(() => this.process(batch));
  }

  /** Moves event time to `eventTs` without a reading (a live network gone quiet) and publishes due frames. */
  advanceTo(eventTs: number): Promise<number> {
    return this.queue.run(async () => {
      const frames = this.aligner.advanceTo(eventTs);
      this.pendingOps.push({ op: 'advance', ts: eventTs });
      await this.publish([], frames, {});
      return frames.length;
    });
  }

  /** Waits for the batch in progress (graceful shutdown). */
  async drain(): Promise<void> {
    await this.queue.drain();
  }

  /** An aligner in the checkpointed state: the snapshot with its journal replayed (the frames this gives were published before). */
  private restore(stored: StoredCheckpoint | null): Aligner {
    const aligner = new Aligner(this.directory, this.alignerOptions(), stored?.snapshot.aligner);
    const offsets = { ...stored?.snapshot.offsets };
    let readings = 0;
    for (const entry of stored?.journal ?? []) {
      for (const op of entry.ops) {
        if (op.op === 'add') {
          for (const [node, ts, values] of op.readings)
            aligner.add({ network: this.directory.network, node, ts, values }, op.source);
          readings += op.readings.length;
        } else if (op.op === 'sources') aligner.setSources(op.sources);
        else if (op.op === 'idle') for (const source of op.sources) aligner.setIdle(source, op.upTo);
        else aligner.advanceTo(op.ts);
      }
      Object.assign(offsets, entry.offsets);
    }
    this.checkpointOffsets = offsets;
    this.generation = stored?.snapshot.generation ?? 0;
    this.journalEntries = stored?.journal.length ?? 0;
    this.journalReadings = readings;
    this.maxEventTsSaved = aligner.maxEventTs;
    this.pendingOps = [];
    return aligner;
  }

  /** Writes the whole state as a new snapshot generation, which empties the journal. */
  private snapshot(): void {
    const generation = this.generation + 1;
    const checkpoint: IngestCheckpoint = {
      format: 1,
      network: this.directory.network,
      offsets: this.checkpointOffsets,
      aligner: this.aligner.stateView(),
      generation,
    };
    this.options.checkpoints.save(JSON.stringify(checkpoint));
    this.generation = generation;
    this.journalEntries = 0;
    this.journalReadings = 0;
  }

  /**
   * A snapshot that fails (disk full) is not the batch's failure: the journal
   * still holds everything, so it is logged and tried again after the next batch.
   */
  private trySnapshot(): void {
    try {
      this.snapshot();
    } catch (error) {
      this.options.logger.warn(
        { err: error, journalEntries: this.journalEntries },
        'writing the ingest snapshot failed; the journal keeps the state and the snapshot is retried',
      );
    }
  }

  private alignerOptions(): AlignerOptions {
    const { tickMs, allowedLatenessMs, silenceMs, maxCatchUpMs } = this.options.ingest;
    // One reporter per pipeline (not per Aligner: a rollback rebuilds the aligner) so the log rate limit holds.
    this.onSkip ??= skipReporter({
      logger: this.options.logger,
      count: (ticks) => this.options.metrics.skippedTicks.inc(ticks),
      tickMs,
    });
    return { tickMs, allowedLatenessMs, silenceMs, maxCatchUpMs, onSkip: this.onSkip };
  }

  /** Records when the partition delivered and whether it is behind its high watermark. */
  private noteArrival(batch: IncomingBatch, tp: string, arrived: number): void {
    // After a quiet spell, every partition gets a full idle period to deliver again.
    if (this.lastAnyBatchAt === null || arrived - this.lastAnyBatchAt >= this.options.ingest.partitionIdleMs)
      this.flowingSince = arrived;
    this.lastAnyBatchAt = arrived;
    this.lastBatchAt.set(tp, arrived);
    const lastOffset = batch.messages[batch.messages.length - 1]?.offset;
    if (
      batch.highWatermark !== undefined &&
      lastOffset !== undefined &&
      BigInt(lastOffset) + 1n < BigInt(batch.highWatermark)
    )
      this.lagging.add(tp);
    else this.lagging.delete(tp);
  }

  private async process(batch: IncomingBatch): Promise<BatchOutcome> {
    const end = this.options.metrics.batchSeconds.startTimer();
    const tp = `${batch.topic}:${batch.partition}`;
    const arrived = Date.now();
    this.noteArrival(batch, tp, arrived);
    const seenUpTo = BigInt(this.checkpointOffsets[tp] ?? '0');
    // Every reading given to the aligner, late ones too (they move the partition's event time).
    const journalled: Array<[string, number, Record<string, number>]> = [];
    this.pendingOps.push({ op: 'add', source: tp, readings: journalled });
    const { dlq, frames, rejectedCodes, accepted, skipped, otherNetwork } = alignBatch(batch, {
      decodeOptions: this.decodeOptions,
      allowedLatenessMs: this.options.ingest.allowedLatenessMs,
      seenUpTo,
      add: (reading) => {
        journalled.push([reading.node, reading.ts, reading.values]);
        const result = this.aligner.add(reading, tp);
        if (result.status === 'accepted') {
          const tick = this.aligner.tickOf(reading.ts);
          if (!this.firstArrivals.has(tick)) this.firstArrivals.set(tick, arrived);
        }
        return result;
      },
    });
    const next = nextOffset(batch, seenUpTo);
    await this.publish(dlq, frames, next === undefined ? {} : { [tp]: next });
    this.options.metrics.accepted.inc(accepted);
    this.options.metrics.otherNetwork.inc(otherNetwork);
    for (const code of rejectedCodes) this.options.metrics.reject(code);
    end();
    if (rejectedCodes.length > 0) {
      this.options.logger.debug(
        { topic: batch.topic, partition: batch.partition, rejected: rejectedCodes.length },
        'messages sent to the DLQ',
      );
    }
    return { accepted, rejected: rejectedCodes.length, skipped, otherNetwork, frames: frames.length };
  }

  /**
   * Publishes, then journals the step (its aligner operations and the offsets
   * it moves); on failure rolls the aligner back to the last checkpoint. The
   * DLQ and the frames go out together: the two sends do not depend on each other.
   */
  private async publish(dlq: OutgoingMessage[], frames: Frame[], offsets: Record<string, string>): Promise<void> {
    const ops = this.pendingOps;
    this.pendingOps = [];
    try {
      const topics = this.options.topics ?? DEFAULT_INGEST_TOPICS;
      await sendStep(this.options.producer, topics, dlq, frames, this.firstArrivals);
      const readings = ops.reduce((n, op) => n + (op.op === 'add' ? op.readings.length : 0), 0);
      if (readings > 0 || ops.some((op) => op.op !== 'add') || Object.keys(offsets).length > 0) {
        this.options.checkpoints.append(
          JSON.stringify({
            g: this.generation,
            offsets,
            ops: ops.filter((op) => op.op !== 'add' || op.readings.length > 0),
          }),
        );
        this.journalEntries++;
        this.journalReadings += readings;
      }
      Object.assign(this.checkpointOffsets, offsets);
      this.maxEventTsSaved = this.aligner.maxEventTs;
      forgetArrivals(this.firstArrivals, frames);
    } catch (error) {
      this.aligner = this.restore(this.options.checkpoints.load());
      throw error;
    }
    const every = this.options.snapshotEveryReadings ?? Math.max(10_000, 2 * this.directory.nodeCount);
    if (this.journalReadings >= every || this.journalEntries >= MAX_JOURNAL_ENTRIES) this.trySnapshot();
    this.options.metrics.frames.inc(frames.length);
    const watermark = this.aligner.watermark;
    if (watermark !== null) this.options.metrics.watermark.set(watermark / 1000);
  }
}

/** The offset to commit after a batch: past its last message, never behind what the checkpoint has already seen. */
function nextOffset(batch: IncomingBatch, seenUpTo: bigint): string | undefined {
  const last = batch.messages[batch.messages.length - 1];
  if (!last) return undefined;
  return BigInt(last.offset) + 1n > seenUpTo ? (BigInt(last.offset) + 1n).toString() : seenUpTo.toString();
}
