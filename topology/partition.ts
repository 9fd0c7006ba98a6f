/**
 * cluster id → Kafka partition. The mapping is Kafka's own default
 * partitioner (murmur2 of the key bytes, made positive, mod the partition
 * count), so producing a frame with key = cluster id lands on exactly this
 * partition whether the producer is kafkajs, the Java client, or this function.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (32-bit, signed result), as in the Java client's Utils.murmur2. */
export function murmur2(key: string | Uint8Array): number {
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4] & 0xff) | ((data[i4 + 1] & 0xff) << 8) | ((data[i4 + 2] & 0xff) << 16) | ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & ~3;
  switch (length % 4) {
    case 3:
      h ^= (data[tail + 2] & 0xff) << 16;
    // falls through
    case 2:
      h ^= (data[tail + 1] & 0xff) << 8;
    // falls through
    case 1:
      h ^= data[tail] & 0xff;
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a cluster on a topic with `partitions` partitions. */
export function partitionForCluster(clusterId: string, partitions: number): number {
  if (!(Number.isInteger(partitions) && partitions >= 1)) throw new RangeError(`partitions must be a positive integer (got ${partitions})`);
  return (murmur2(clusterId) & 0x7fffffff) % partitions;
}
