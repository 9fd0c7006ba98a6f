/**
 * cluster id → Kafka partition: Kafka's own default partitioner (murmur2 of
 * the key bytes, made positive, mod the partition count), shared with the
 * transports. Producing a frame with key = cluster id therefore lands on
 * exactly this partition, on a real broker and in embedded mode alike.
 */
import { partitionForKey } from '../transport/partitioner.ts';

/** The partition of a cluster on a topic with `partitions` partitions. */
export function partitionForCluster(clusterId: string, partitions: number): number {
  if (!(Number.isInteger(partitions) && partitions >= 1))
    throw new RangeError(`partitions must be a positive integer (got ${partitions})`);
  return partitionForKey(clusterId, partitions);
}
