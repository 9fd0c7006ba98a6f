/** Splits items into consecutive runs whose total size stays under `limit` (an item larger than it goes alone), keeping their order. */
export function chunkBySize<T>(items: T[], sizeOf: (item: T) => number, limit: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && bytes + size > limit) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Most bytes of keys, values and headers in one produce request: well under
 * the broker's default message.max.bytes (1 MiB), which bounds a whole record
 * batch (a 10,000-node topology in one request failed with MESSAGE_TOO_LARGE).
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** Bytes a message adds to a produce request: key, value, headers and the record format's overhead (a generous 64). */
export function messageBytes(message: {
  key: string | null;
  value: Buffer | string | null;
  headers?: Record<string, string>;
}): number {
  return (
    (message.value === null ? 0 : Buffer.byteLength(message.value)) +
    (message.key ? Buffer.byteLength(message.key) : 0) +
    Object.entries(message.headers ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0) +
    64
  );
}
