import type { Logger } from '../../common/log.ts';
import { partitionForKey } from '../../transport/partitioner.ts';
import type { ClusterCheckpointStore } from '../state/store.ts';
import type { DetectorMetrics } from './metrics.ts';
import type { FrameProcessor } from './processor.ts';

export interface ClusterOwnershipOptions {
  processor: FrameProcessor;
  checkpoints: ClusterCheckpointStore;
  metrics: DetectorMetrics;
  logger: Logger;
  replicaId: string;
  /** Partitions of the frames topic now: which partition a cluster's frames go to (murmur2 of its id, like Kafka). */
  framePartitions: () => Promise<number>;
}

/**
 * Rebalance bookkeeping: each assignment bumps the generation; the first
 * batch of a new generation reloads the checkpoints of the clusters whose
 * frames come from the partitions it owns and drops clusters of lost
 * partitions, so a cluster moves between replicas without a lost or
 * duplicated tick, and a replica holds only its own clusters' state.
 */
export class ClusterOwnership {
  private generation = 0;
  private restoredGeneration = -1;
  private owned = new Set<number>();
  private readonly partitionOfCluster = new Map<string, number>();

  constructor(private readonly options: ClusterOwnershipOptions) {}

  /** The partitions of the frames topic this replica now owns. */
  assigned(partitions: number[]): void {
    this.owned = new Set(partitions);
    this.generation += 1;
  }

  /** Remembers which partition a cluster's frames come from, to drop it when that partition is lost. */
  seen(cluster: string, partition: number): void {
    this.partitionOfCluster.set(cluster, partition);
  }

  /** Reloads the checkpoints if the assignment changed since the last reload. */
  async restoreIfReassigned(): Promise<void> {
    if (this.restoredGeneration !== this.generation) await this.restore();
  }

  private async restore(): Promise<void> {
    const { processor, metrics, logger } = this.options;
    const wanted = this.generation;
    const partitions = await this.options.framePartitions();
    const checkpoints = await this.options.checkpoints.loadAll((cluster) => {
      const seenOn = this.partitionOfCluster.get(cluster);
      return this.owned.has(partitionForKey(cluster, partitions)) || (seenOn !== undefined && this.owned.has(seenOn));
    });
    for (const cluster of processor.clusters()) {
      const partition = this.partitionOfCluster.get(cluster);
      if (partition !== undefined && !this.owned.has(partition)) {
        processor.drop(cluster);
        this.partitionOfCluster.delete(cluster);
      }
    }
    const { restored, incompatible, carried } = processor.adoptCheckpoints(checkpoints);
    metrics.restores.inc(restored.length);
    if (carried.length > 0)
      logger.warn(
        { clusters: carried, version: processor.modelVersion },
        'carrying checkpoints of another model version (same shape) into the version in use; they were not warmed up beside it',
      );
    if (incompatible.length > 0)
      logger.warn(
        { clusters: incompatible },
        'ignoring checkpoints of a model with another shape; those clusters start fresh',
      );
    logger.info(
      {
        replica: this.options.replicaId,
        checkpoints: checkpoints.size,
        replaced: restored.length,
        partitions: [...this.owned].sort((a, b) => a - b),
      },
      'state reloaded after rebalance',
    );
    this.restoredGeneration = wanted;
  }
}
