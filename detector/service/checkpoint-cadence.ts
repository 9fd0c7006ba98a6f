import type { Logger } from '../../common/log.ts';
import type { ClusterCheckpointStore } from '../state/store.ts';
import type { DetectorMetrics } from './metrics.ts';
import type { FrameProcessor } from './processor.ts';

/** Clusters whose checkpoints are encoded and written together (about 500 KB each with the slow context). */
export const CHECKPOINT_CHUNK = 16;

export interface CheckpointCadenceOptions {
  /** How long a partition's touched clusters may wait for their checkpoint; 0 = after every batch. */
  intervalMs: number;
  checkpoints: ClusterCheckpointStore;
  processor: FrameProcessor;
  metrics: DetectorMetrics;
  logger: Logger;
  now?: () => number;
}

/**
 * When the detector makes its state durable. A cluster's state with the slow
 * context is about half a megabyte, so writing every touched cluster after
 * every batch would cost more than scoring it. Instead, per partition of the
 * frames topic, the clusters touched since the partition's last flush are
 * written together once `intervalMs` has passed, and only then is the
 * partition's offset committed (the batches between resolve with
 * `{ commit: false }`).
 *
 * A crash or a rebalance in between costs a replay of the frames since the
 * last commit, never a tick: frames at or before a cluster's checkpointed tick
 * are skipped, the rest are scored again from the same state to the same
 * results (InfluxDB points are overwritten, `wsn.anomalies` is at least once).
 */
export class CheckpointCadence {
  private readonly dirty = new Map<number, Set<string>>();
  private readonly lastFlush = new Map<number, number>();
  private everyBatch: boolean;
  private readonly now: () => number;

  constructor(private readonly options: CheckpointCadenceOptions) {
    this.everyBatch = options.intervalMs <= 0;
    this.now = options.now ?? Date.now;
  }

  /**
   * After a delivered batch: remembers its clusters, and writes the
   * partition's pending checkpoints when its interval is over, calling
   * `between` between chunks (the consumer's heartbeat). Resolves to whether
   * the batch's offset may be committed.
   */
  async afterBatch(partition: number, clusters: string[], between?: () => Promise<void>): Promise<boolean> {
    this.touch(partition, clusters);
    if (!this.lastFlush.has(partition)) this.lastFlush.set(partition, this.now());
    const due = this.everyBatch || this.now() - this.lastFlush.get(partition)! >= this.options.intervalMs;
    if (!due) return false;
    await this.flush(partition, between);
    return true;
  }

  /** Adds clusters to a partition's pending checkpoints without writing anything (a run of a failed hand-over that went through). */
  touch(partition: number, clusters: readonly string[]): void {
    if (clusters.length === 0) return;
    let pending = this.dirty.get(partition);
    if (!pending) this.dirty.set(partition, (pending = new Set()));
    for (const cluster of clusters) pending.add(cluster);
    if (!this.lastFlush.has(partition)) this.lastFlush.set(partition, this.now());
  }

  /**
   * Writes every pending checkpoint; from then on every batch checkpoints at
   * once. Called on shutdown while this replica still owns its partitions,
   * so a restart does not replay what was scored since the last flush.
   */
  async flushAll(): Promise<void> {
    this.everyBatch = true;
    for (const partition of [...this.dirty.keys()]) await this.flush(partition);
  }

  /** Clusters touched and not yet checkpointed (all partitions). */
  pending(): number {
    let total = 0;
    for (const clusters of this.dirty.values()) total += clusters.size;
    return total;
  }

  private async flush(partition: number, between?: () => Promise<void>): Promise<void> {
    const { processor, checkpoints, metrics } = this.options;
    const held = new Set(processor.clusters());
    // A cluster dropped since (its partition went to another replica) is that replica's to checkpoint.
    const clusters = [...(this.dirty.get(partition) ?? [])].filter((cluster) => held.has(cluster));
    const began = performance.now();
    // A chunk at a time, encoded straight from the live state (the store encodes before its first await, and no
    // batch runs meanwhile): at most a chunk's encoded checkpoints are held at once, not the partition's.
    for (let from = 0; from < clusters.length; from += CHECKPOINT_CHUNK) {
      if (from > 0) await between?.();
      await checkpoints.save(
        clusters
          .slice(from, from + CHECKPOINT_CHUNK)
          .map((cluster) => processor.checkpoint(cluster, { shareState: true })),
      );
    }
    this.dirty.delete(partition);
    this.lastFlush.set(partition, this.now());
    metrics.checkpointWrites.inc(clusters.length);
    metrics.checkpointSeconds.observe((performance.now() - began) / 1000);
    this.options.logger.debug({ partition, clusters: clusters.length }, 'checkpoints written');
  }
}
