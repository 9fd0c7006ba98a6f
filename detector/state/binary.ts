/**
 * The binary form of a checkpoint: the JSON of the checkpoint with every float
 * array replaced by a reference into a block of raw bytes after it, so the
 * model's state (nearly all of a checkpoint) is stored as it sits in memory,
 * without base64's third more bytes or its encoding time.
 *
 *   "wsnckpt1" · header length (uint32 LE) · header (UTF-8 JSON) · float arrays (little-endian)
 *
 * A float array appears in the header as {"$f32": [byteOffset, length]} or
 * {"$f64": [...]}, its offset counted from the end of the header.
 */

/** The first bytes of a binary checkpoint; a JSON checkpoint starts with "{". */
export const BINARY_CHECKPOINT_MAGIC = Buffer.from('wsnckpt1', 'latin1');
const HEADER_LENGTH_BYTES = 4;

type FloatArray = Float32Array | Float64Array;

/** Whether `bytes` hold a binary checkpoint (by its magic). */
export function isBinaryCheckpoint(bytes: Buffer): boolean {
  return (
    bytes.length >= BINARY_CHECKPOINT_MAGIC.length &&
    bytes.subarray(0, BINARY_CHECKPOINT_MAGIC.length).equals(BINARY_CHECKPOINT_MAGIC)
  );
}

/** `value` as the binary form: its float arrays as raw bytes after a JSON header. */
export function packFloatArrays(value: unknown): Buffer {
  const arrays: FloatArray[] = [];
  let offset = 0;
  const ref = (item: FloatArray): Record<string, [number, number]> => {
    const reference = { [item instanceof Float32Array ? '$f32' : '$f64']: [offset, item.length] as [number, number] };
    arrays.push(item);
    offset += item.byteLength;
    return reference;
  };
  // The float arrays are swapped for references before JSON.stringify, in the order it writes them: a replacer
  // function would be called for every number of the state's plain lists, which made it the slowest part.
  const header = JSON.stringify(withFloatArrayRefs(value, ref));
  const headerBytes = Buffer.from(header, 'utf8');
  const prefix = BINARY_CHECKPOINT_MAGIC.length + HEADER_LENGTH_BYTES;
  const out = Buffer.allocUnsafe(prefix + headerBytes.length + offset);
  BINARY_CHECKPOINT_MAGIC.copy(out, 0);
  out.writeUInt32LE(headerBytes.length, BINARY_CHECKPOINT_MAGIC.length);
  headerBytes.copy(out, prefix);
  let at = prefix + headerBytes.length;
  for (const array of arrays) {
    // Typed arrays are in the platform's byte order, little-endian on every platform Node.js runs on.
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    at += array.byteLength;
  }
  return out;
}

/**
 * `value` with every float array replaced by `ref(array)`, visited depth-first in key order as JSON.stringify
 * visits it; objects and lists are copied only where something inside them was replaced.
 */
function withFloatArrayRefs(value: unknown, ref: (array: FloatArray) => unknown): unknown {
  if (value instanceof Float32Array || value instanceof Float64Array) return ref(value);
  if (typeof value !== 'object' || value === null) return value;
  const { toJSON } = value as { toJSON?: unknown };
  if (typeof toJSON === 'function') return withFloatArrayRefs((toJSON as () => unknown).call(value), ref);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'object' || item === null) continue;
      const replaced = withFloatArrayRefs(item, ref);
      if (replaced !== item) (copy ??= value.slice())[i] = replaced;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item !== 'object' || item === null) continue;
    const replaced = withFloatArrayRefs(item, ref);
    if (replaced !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = replaced;
  }
  return copy ?? value;
}

/** The value packed by packFloatArrays, its float arrays copied out; throws an Error saying what does not fit. */
export function unpackFloatArrays(bytes: Buffer): unknown {
  const prefix = BINARY_CHECKPOINT_MAGIC.length + HEADER_LENGTH_BYTES;
  if (!isBinaryCheckpoint(bytes) || bytes.length < prefix) throw new Error('not a binary checkpoint (no header)');
  const headerLength = bytes.readUInt32LE(BINARY_CHECKPOINT_MAGIC.length);
  if (prefix + headerLength > bytes.length)
    throw new Error(`header of ${headerLength} bytes runs past the end (${bytes.length} bytes)`);
  const data = bytes.subarray(prefix + headerLength);
  const header = bytes.subarray(prefix, prefix + headerLength).toString('utf8');
  return JSON.parse(header, (_key, item: unknown) => floatArrayOf(item, data) ?? item);
}

/** The float array a header reference points to, undefined for anything else. */
function floatArrayOf(item: unknown, data: Buffer): FloatArray | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const keys = Object.keys(item);
  if (keys.length !== 1 || (keys[0] !== '$f32' && keys[0] !== '$f64')) return undefined;
  const Type = keys[0] === '$f32' ? Float32Array : Float64Array;
  const ref = (item as Record<string, unknown>)[keys[0]];
  const [offset, length] = Array.isArray(ref) ? (ref as unknown[]) : [];
  if (!Number.isInteger(offset) || !Number.isInteger(length) || (offset as number) < 0 || (length as number) < 0)
    throw new Error(`bad float array reference ${JSON.stringify(item)}`);
  const end = (offset as number) + (length as number) * Type.BYTES_PER_ELEMENT;
  if (end > data.length)
    throw new Error(`float array ${JSON.stringify(item)} runs past the end of the data (${data.length} bytes)`);
  // Copied into an array of its own: the offset need not be aligned, and the message's buffer is not kept.
  const array = new Type(length as number);
  new Uint8Array(array.buffer).set(data.subarray(offset as number, end));
  return array;
}
