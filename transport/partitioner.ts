/**
 * Key → partition, the same way Kafka's Java client (and kafkajs's
 * DefaultPartitioner) does it: murmur2 of the key bytes, made positive,
 * modulo the partition count. Using the same function in the in-process
 * transport means a node or cluster lands on the same partition number in
 * embedded mode as on a real broker, which keeps tests and traces comparable.
 */

/** Kafka's murmur2 (seed 0x9747b28c), over the UTF-8 bytes of the key. */
export function murmur2(key: string | Buffer): number {
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = seed ^ length;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] & 0xff) + ((data[i4 + 1] & 0xff) << 8) + ((data[i4 + 2] & 0xff) << 16) + ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length % 4;
  const base = length - tail;
  if (tail === 3) h ^= (data[base + 2] & 0xff) << 16;
  if (tail >= 2) h ^= (data[base + 1] & 0xff) << 8;
  if (tail >= 1) {
    h ^= data[base] & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a keyed message among `partitions` partitions. */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
