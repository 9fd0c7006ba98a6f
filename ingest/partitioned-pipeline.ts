import type { Config } from '../common/config.ts';
import type { Logger } from '../common/log.ts';
import type { BatchCommit, IncomingBatch, OutgoingMessage, TransportProducer } from '../common/transport.ts';
import type { Frame, Reading } from '../common/types.ts';
import { partitionForKey } from '../transport/partitioner.ts';
import { Aligner, type AddResult, type AlignerOptions } from './align.ts';
import { alignBatch } from './batch-align.ts';
import type { DecodeOptions } from './decode.ts';
import { NodeDirectory } from './directory.ts';
import { forgetArrivals, sendStep } from './dlq.ts';
import type { IngestMetrics } from './metrics.ts';
import type { PartitionState, PartitionStateStore } from './partition-state.ts';
import type { BatchOutcome } from './pipeline.ts';
import { plausibilityLimits } from './plausibility.ts';
import type { Rejection } from './rejection.ts';
import { SerialQueue } from './serial.ts';
import { skipReporter } from './skip-report.ts';
import { DEFAULT_INGEST_TOPICS, type IngestTopicNames } from './topics.ts';

/**
 * Ingest for several processes in one consumer group (scale-out). Readings
 * are keyed by cluster, so all readings of a cluster are on one readings
 * partition, and each partition is aligned on its own: one aligner per owned
 * partition, over the clusters that partition carries, with that partition's
 * event time as its watermark (moved up when the partition goes idle, like a
 * single-process ingest's). Whoever owns a partition emits the frames of
 * its clusters, whole; nothing is shared between processes but the saved state.
 *
 * The state of each partition is saved to a compacted table (see
 * partition-state.ts) every `saveEveryReadings` readings or `saveEveryMs`,
 * and the offset committed for the partition is the one its saved state has
 * reached, never further. A process that takes a partition over loads its
 * state and reads on from there: the readings after the save are aligned
 * again from the same state and give the same frames, which the detector
 * passes over as already scored (it keeps the last tick per cluster).
 */
export interface PartitionedIngestOptions {
  ingest: Config['ingest'];
  directory: NodeDirectory;
  producer: TransportProducer;
  metrics: IngestMetrics;
  store: PartitionStateStore;
  /** Partitions of the readings topic: a cluster's readings are on partitionForKey(cluster, this). */
  readingsPartitions: number;
  logger: Logger;
  topics?: IngestTopicNames;
  validation?: Config['validation'];
  now?: () => number;
  /** Save a partition once this many readings came since its last save (default: twice its nodes, at least 2,000). */
  saveEveryReadings?: number;
  /** Save a partition that took readings at least this often (default 10 s), so a takeover has little to read again. */
  saveEveryMs?: number;
}

/** One owned readings partition. */
interface PartitionRun {
  source: string;
  partition: number;
  directory: NodeDirectory;
  aligner: Aligner;
  /** Next offset not yet in the aligner. */
  nextOffset: bigint;
  /** Offset of the saved state (what is committed); null before the first save. */
  savedOffset: string | null;
  readingsSinceSave: number;
  savedAt: number;
  /** Output of a batch whose publishing failed: sent first when the batch comes again. */
  unpublished: { dlq: OutgoingMessage[]; frames: Frame[] } | null;
  /** Tick → wall-clock time its first reading arrived, for the frames' latency header. */
  firstArrivals: Map<number, number>;
  /** Wall-clock time of its last batch (of the load, before the first). */
  lastBatchAt: number;
  /** Its last batch did not reach the partition's end: it lags, it is not idle. */
  lagging: boolean;
}

/** The clusters of `directory` whose readings are on `partition`. */
export function partitionDirectory(directory: NodeDirectory, partition: number, partitions: number): NodeDirectory {
  return new NodeDirectory({
    network: directory.network,
    version: directory.version,
    clusters: directory.clusters
      .filter((cluster) => partitionForKey(cluster.id, partitions) === partition)
      .map((cluster) => ({
        id: cluster.id,
        nodes: cluster.nodes.map((id) => ({ id, modalities: directory.modalitiesOf(id) ?? [] })),
      })),
  });
}

export class PartitionedIngestPipeline {
  private readonly runs = new Map<string, PartitionRun>();
  private directory: NodeDirectory;
  private readonly decodeOptions: DecodeOptions;
  private readonly queue = new SerialQueue();
  private readonly onSkip: AlignerOptions['onSkip'];
  /** Max event time at the previous markIdle call. */
  private previousMaxEventTs: number | null = null;
  /** Wall-clock time of the last batch of any partition, and since when batches have been flowing without a quiet gap. */
  private lastAnyBatchAt: number | null = null;
  private flowingSince = 0;

  constructor(private readonly options: PartitionedIngestOptions) {
    this.directory = options.directory;
    this.decodeOptions = {
      defaultNetwork: options.directory.network,
      maxMessageBytes: options.ingest.maxMessageBytes,
      precision: options.ingest.lineProtocolPrecision,
      directory: options.directory,
      maxFutureMs: (options.validation?.maxFutureTicks ?? 3) * options.ingest.tickMs,
      now: options.now ?? Date.now,
      plausibility: plausibilityLimits(options.validation?.plausibility),
    };
    this.onSkip = skipReporter({
      logger: options.logger,
      count: (ticks) => options.metrics.skippedTicks.inc(ticks),
      tickMs: options.ingest.tickMs,
    });
  }

  /** Max event time over the owned partitions (null before the first reading). */
  get maxEventTs(): number | null {
    let max: number | null = null;
    for (const run of this.runs.values()) {
      const ts = run.aligner.maxEventTs;
      if (ts !== null && (max === null || ts > max)) max = ts;
    }
    return max;
  }

  /** The owned partitions (`topic:partition`), sorted. */
  get owned(): string[] {
    return [...this.runs.keys()].sort();
  }

  /**
   * The partitions this process owns now: loads the saved state of the new
   * ones, drops the lost ones without saving (their new owner may already be
   * reading them from the last save).
   */
  assign(sources: string[]): Promise<void> {
    return this.queue.run(async () => {
      for (const source of [...this.runs.keys()]) {
        if (sources.includes(source)) continue;
        this.runs.delete(source);
        this.options.store.forget(source);
        this.options.logger.info({ source }, 'readings partition given up to another ingest process');
      }
      const added = sources.filter((source) => !this.runs.has(source));
      if (added.length > 0) await this.load(added);
    });
  }

  handleBatch(batch: IncomingBatch): Promise<BatchOutcome & BatchCommit> {
    return this.queue.run(() => this.process(batch));
  }

  /** Moves event time of every owned partition to `eventTs` (a live network gone quiet) and publishes due frames. */
  advanceTo(eventTs: number): Promise<number> {
    return this.queue.run(async () => {
      let frames = 0;
      for (const run of this.runs.values()) {
        const due = run.aligner.advanceTo(eventTs);
        await this.publish(run, [], due);
        frames += due.length;
      }
      return frames;
    });
  }

  /**
   * A partition whose clusters all went quiet holds only its own watermark,
   * but that stops its frames (and so the silence of its nodes). As in the
   * single-process pipeline: an owned partition that delivered nothing for
   * `idleMs` (counted from its last batch, or from when batches started
   * flowing again after a quiet spell) and was caught up at its last batch is
   * moved up to the max event time this process's partitions had reached at
   * the previous call. Call it periodically.
   */
  markIdle(now: number, idleMs: number): Promise<number> {
    return this.queue.run(async () => {
      const upTo = this.previousMaxEventTs;
      this.previousMaxEventTs = this.maxEventTs;
      if (upTo === null) return 0;
      let count = 0;
      for (const run of this.runs.values()) {
        if (now - Math.max(run.lastBatchAt, this.flowingSince) < idleMs || run.lagging) continue;
        const frames = run.aligner.setIdle(run.source, upTo);
        await this.publish(run, [], frames);
        count += frames.length;
      }
      return count;
    });
  }

  /** Records when the partition delivered and whether it is behind its end. */
  private noteArrival(run: PartitionRun, batch: IncomingBatch, arrived: number): void {
    // After a quiet spell, every partition gets a full idle period to deliver again.
    if (this.lastAnyBatchAt === null || arrived - this.lastAnyBatchAt >= this.options.ingest.partitionIdleMs)
      this.flowingSince = arrived;
    this.lastAnyBatchAt = arrived;
    run.lastBatchAt = arrived;
    const last = batch.messages[batch.messages.length - 1]?.offset;
    run.lagging =
      batch.highWatermark !== undefined && last !== undefined && BigInt(last) + 1n < BigInt(batch.highWatermark);
  }

  /** Saves every owned partition now (graceful stop: the next owner reads nothing again). */
  checkpoint(): Promise<void> {
    return this.queue.run(async () => {
      for (const run of this.runs.values()) if (run.readingsSinceSave > 0) await this.save(run);
    });
  }

  /** Switches to a new topology (from the wsn.topology follower). */
  setDirectory(directory: NodeDirectory): Promise<void> {
    return this.queue.run(async () => {
      this.directory = directory;
      this.decodeOptions.directory = directory;
      for (const run of this.runs.values()) {
        run.directory = partitionDirectory(directory, run.partition, this.options.readingsPartitions);
        run.aligner.setDirectory(run.directory);
      }
    });
  }

  async drain(): Promise<void> {
    await this.queue.drain();
  }

  private alignerOptions(): AlignerOptions {
    const { tickMs, allowedLatenessMs, silenceMs, maxCatchUpMs } = this.options.ingest;
    return { tickMs, allowedLatenessMs, silenceMs, maxCatchUpMs, onSkip: this.onSkip };
  }

  private async load(sources: string[]): Promise<void> {
    const saved = await this.options.store.load(sources);
    for (const source of sources) {
      const partition = Number(source.slice(source.lastIndexOf(':') + 1));
      const state = saved.get(source);
      if (state && state.network !== this.directory.network)
        throw new Error(`ingest state of ${source} is for network "${state.network}", not "${this.directory.network}"`);
      const directory = partitionDirectory(this.directory, partition, this.options.readingsPartitions);
      const aligner = new Aligner(directory, this.alignerOptions(), state?.aligner);
      aligner.setSources([source]);
      this.runs.set(source, {
        source,
        partition,
        directory,
        aligner,
        nextOffset: BigInt(state?.offset ?? '0'),
        savedOffset: state?.offset ?? null,
        readingsSinceSave: 0,
        savedAt: Date.now(),
        unpublished: null,
        firstArrivals: new Map(),
        lastBatchAt: Date.now(),
        lagging: false,
      });
      this.options.logger.info(
        { source, clusters: directory.clusters.length, offset: state?.offset ?? null },
        state ? 'readings partition taken over from its saved state' : 'readings partition starts with no saved state',
      );
    }
  }

  /** Aligns one reading on its partition's aligner, or says why it belongs to another partition. */
  private addTo(run: PartitionRun, reading: Reading, arrived: number): AddResult | Rejection {
    if (!run.directory.has(reading.node)) {
      const cluster = this.directory.clusterOf(reading.node) ?? '?';
      const home = partitionForKey(cluster, this.options.readingsPartitions);
      return {
        code: 'wrong_partition',
        message: `node ${reading.node} is in cluster ${cluster}, whose readings belong on partition ${home}, not ${run.partition}: with several ingest processes, readings are keyed by cluster`,
      };
    }
    const result = run.aligner.add(reading, run.source);
    if (result.status === 'accepted') {
      const tick = run.aligner.tickOf(reading.ts);
      if (!run.firstArrivals.has(tick)) run.firstArrivals.set(tick, arrived);
    }
    return result;
  }

  private async process(batch: IncomingBatch): Promise<BatchOutcome & BatchCommit> {
    const end = this.options.metrics.batchSeconds.startTimer();
    const source = `${batch.topic}:${batch.partition}`;
    if (!this.runs.has(source)) await this.load([source]);
    const run = this.runs.get(source)!;
    if (run.unpublished) {
      await this.publish(run, run.unpublished.dlq, run.unpublished.frames);
      run.unpublished = null;
    }
    const first = batch.messages[0]?.offset;
    if (first !== undefined && BigInt(first) > run.nextOffset && run.savedOffset !== null)
      // The group had committed past the saved state (a stalled former owner, or state lost): say what is missing.
      this.options.logger.warn(
        { source, stateOffset: run.nextOffset.toString(), firstOffset: first },
        'readings between the saved state and the first delivered message are not in the aligner state',
      );
    const arrived = Date.now();
    this.noteArrival(run, batch, arrived);
    const aligned = alignBatch(batch, {
      decodeOptions: this.decodeOptions,
      allowedLatenessMs: this.options.ingest.allowedLatenessMs,
      seenUpTo: run.nextOffset,
      add: (reading) => this.addTo(run, reading, arrived),
    });
    const last = batch.messages[batch.messages.length - 1];
    if (last && BigInt(last.offset) + 1n > run.nextOffset) run.nextOffset = BigInt(last.offset) + 1n;
    run.readingsSinceSave += batch.messages.length - aligned.skipped;
    this.options.metrics.accepted.inc(aligned.accepted);
    this.options.metrics.otherNetwork.inc(aligned.otherNetwork);
    for (const code of aligned.rejectedCodes) this.options.metrics.reject(code);
    try {
      await this.publish(run, aligned.dlq, aligned.frames);
    } catch (error) {
      // The aligner already holds the batch: keep its output for the redelivery, which skips the messages.
      run.unpublished = { dlq: aligned.dlq, frames: aligned.frames };
      throw error;
    }
    if (this.saveDue(run)) await this.save(run);
    end();
    const { accepted, otherNetwork, skipped } = aligned;
    const rejected = aligned.rejectedCodes.length;
    return { accepted, rejected, skipped, otherNetwork, frames: aligned.frames.length, commitOffset: run.savedOffset };
  }

  private saveDue(run: PartitionRun): boolean {
    if (run.readingsSinceSave === 0) return false;
    const every = this.options.saveEveryReadings ?? Math.max(2_000, 2 * run.directory.nodeCount);
    return run.readingsSinceSave >= every || Date.now() - run.savedAt >= (this.options.saveEveryMs ?? 10_000);
  }

  private async save(run: PartitionRun): Promise<void> {
    const offset = run.nextOffset.toString();
    const state: PartitionState = {
      format: 1,
      network: this.directory.network,
      source: run.source,
      offset,
      aligner: run.aligner.stateView() as PartitionState['aligner'],
    };
    await this.options.store.save(state);
    run.savedOffset = offset;
    run.readingsSinceSave = 0;
    run.savedAt = Date.now();
  }

  private async publish(run: PartitionRun, dlq: OutgoingMessage[], frames: Frame[]): Promise<void> {
    await sendStep(this.options.producer, this.options.topics ?? DEFAULT_INGEST_TOPICS, dlq, frames, run.firstArrivals);
    forgetArrivals(run.firstArrivals, frames);
    this.options.metrics.frames.inc(frames.length);
    const watermark = this.lowestWatermark();
    if (watermark !== null) this.options.metrics.watermark.set(watermark / 1000);
  }

  private lowestWatermark(): number | null {
    let low: number | null = null;
    for (const run of this.runs.values()) {
      const w = run.aligner.watermark;
      if (w !== null && (low === null || w < low)) low = w;
    }
    return low;
  }
}
