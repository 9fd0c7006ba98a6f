import { z } from 'zod';
import { keysWithin } from '../common/plain-object.ts';
import type { Reading } from '../common/types.ts';
import { parseLines, timestampToMs, type Precision } from './line-protocol.ts';
import { reject, type Decoded } from './rejection.ts';
import type { NodeDirectory } from './directory.ts';
import { DEFAULT_PLAUSIBILITY, implausibility, type PlausibilityLimits } from './plausibility.ts';

/**
 * Turns the bytes of one `wsn.readings` message into readings, or says why
 * not. Two formats, told apart by the first non-blank character:
 *
 * - JSON (`{`): `{"network"?: "lab", "node": "12" | 12, "ts": "2004-03-04T00:00:26.98Z" | 1078358426983,
 *   "values": {"temperature": 21.4, ...}}`;
 * - InfluxDB line protocol (anything else), one point per line, as written by
 *   Telegraf: node from the `node` tag, network from the `network` tag or the
 *   configured default, fields are the modalities.
 *
 * A message is accepted whole or rejected whole: one bad line rejects it, and
 * the DLQ keeps it intact for a person to fix and replay.
 */
export interface DecodeOptions {
  /** Network of readings that do not name one. */
  defaultNetwork: string;
  maxMessageBytes: number;
  precision: Precision;
  directory: NodeDirectory;
  /** Readings more than this far ahead of `now` are rejected (a wrong clock would stall the watermark). */
  maxFutureMs: number;
  now: () => number;
  /** Plausible range per modality (default DEFAULT_PLAUSIBILITY); values outside are rejected as `implausible`. */
  plausibility?: PlausibilityLimits;
}

/**
 * Keys that reach into an object's prototype when assigned. JSON.parse keeps
 * them as plain members, but every later copy (spread, record parsing,
 * `obj[key] = …`) either drops them silently or changes the prototype, so a
 * message carrying one is rejected whole with the key named.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The path of the first forbidden key in a parsed JSON value, or null. */
function findForbiddenKey(value: unknown, path: string): string | null {
  if (typeof value !== 'object' || value === null) return null;
  for (const key of Object.keys(value)) {
    const here = path === '' ? key : `${path}.${key}`;
    if (FORBIDDEN_KEYS.has(key)) return here;
    const inner = findForbiddenKey((value as Record<string, unknown>)[key], here);
    if (inner !== null) return inner;
  }
  return null;
}

/** Event times before this (2000-01-01) are taken for a wrong unit or a missing clock. */
const MIN_PLAUSIBLE_MS = Date.UTC(2000, 0, 1);
/** ISO 8601 with an explicit zone: a time without one means a different instant on every machine. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export const JsonReading = z.object({
  network: z.string().min(1).optional(),
  node: z.union([z.string().min(1), z.number().int().nonnegative()]),
  ts: z.union([z.string(), z.number()]).optional(),
  values: z
    .record(z.string().min(1), z.number())
    .refine((v) => Object.keys(v).length > 0, { message: 'needs at least one modality' }),
});

type JsonReadingShape = z.infer<typeof JsonReading>;

const READING_KEYS = new Set(['network', 'node', 'ts', 'values']);

/**
 * The parsed message when it is plainly a valid reading (only the four keys,
 * a usable node and ts, at least one finite number under a non-empty,
 * allowed name), else null. Every message it accepts, JsonReading accepts
 * with the same data; it only saves the schema's work and copies on the
 * common case. Anything else takes the full path, which says what is wrong.
 */
export function plainReading(parsed: object): JsonReadingShape | null {
  const { network, node, ts, values } = parsed as Record<string, unknown>;
  if (keysWithin(parsed, READING_KEYS) < 0) return null;
  if (network !== undefined && (typeof network !== 'string' || network === '')) return null;
  if (typeof node === 'string' ? node === '' : !(typeof node === 'number' && Number.isSafeInteger(node) && node >= 0))
    return null;
  if (typeof ts !== 'number' && typeof ts !== 'string') return null;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return null;
  let modalities = 0;
  for (const name in values) {
    const value = (values as Record<string, unknown>)[name];
    if (name === '' || FORBIDDEN_KEYS.has(name) || typeof value !== 'number' || !Number.isFinite(value)) return null;
    modalities++;
  }
  return modalities > 0 ? (parsed as JsonReadingShape) : null;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(message)'}: ${issue.message}`)
    .join('; ');
}

function jsonTimestamp(ts: string | number): Decoded<number> {
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts)) return reject('non_finite', `ts is ${ts}; send epoch milliseconds`);
    if (!Number.isInteger(ts))
      return reject('bad_timestamp', `ts ${ts} is not an integer number of epoch milliseconds`);
    if (ts < MIN_PLAUSIBLE_MS)
      return reject(
        'bad_timestamp',
        `ts ${ts} is before 2000-01-01 as epoch milliseconds (seconds instead of milliseconds?)`,
      );
    return { ok: true, value: ts };
  }
  if (!ISO_WITH_ZONE.test(ts))
    return reject(
      'bad_timestamp',
      `ts ${JSON.stringify(ts)} is not an ISO 8601 time with a zone (e.g. 2004-03-04T00:00:26.983Z)`,
    );
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) return reject('bad_timestamp', `ts ${JSON.stringify(ts)} is not a valid date`);
  if (ms < MIN_PLAUSIBLE_MS) return reject('bad_timestamp', `ts ${ts} is before 2000-01-01`);
  return { ok: true, value: ms };
}

function decodeJson(text: string, options: DecodeOptions): Decoded<Reading[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return reject('malformed', `not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject('invalid', 'a JSON reading must be an object {network?, node, ts, values}');
  }
  let data = plainReading(parsed);
  if (data === null) {
    const checked = checkedJson(parsed);
    if (!checked.ok) return checked;
    data = checked.value;
  }
  const ts = jsonTimestamp(data.ts as string | number);
  if (!ts.ok) return ts;
  return {
    ok: true,
    value: [
      { network: data.network ?? options.defaultNetwork, node: String(data.node), ts: ts.value, values: data.values },
    ],
  };
}

/** A parsed JSON object that is not plainly a reading: the schema's data, or why not. */
function checkedJson(parsed: object): Decoded<JsonReadingShape> {
  const forbidden = findForbiddenKey(parsed, '');
  if (forbidden !== null)
    return reject(
      'forbidden_key',
      `key ${forbidden} is not allowed (__proto__, constructor and prototype are never member names)`,
    );
  const values = (parsed as { values?: unknown }).values;
  if (values && typeof values === 'object') {
    // JSON.parse turns 1e999 into Infinity; say so rather than "expected number".
    for (const [name, v] of Object.entries(values)) {
      if (typeof v === 'number' && !Number.isFinite(v))
        return reject('non_finite', `values.${name} is ${v}; readings must be finite numbers`);
    }
  }
  if ((parsed as { ts?: unknown }).ts === undefined || (parsed as { ts?: unknown }).ts === null) {
    return reject('missing_timestamp', 'the reading has no ts (event time: ISO 8601 with zone, or epoch milliseconds)');
  }
  const result = JsonReading.safeParse(parsed);
  if (!result.success) return reject('invalid', describeIssues(result.error));
  return { ok: true, value: result.data };
}

function decodeLineProtocol(text: string, options: DecodeOptions): Decoded<Reading[]> {
  const points = parseLines(text);
  if (!points.ok) return points;
  const readings: Reading[] = [];
  for (const [i, point] of points.value.entries()) {
    const where = points.value.length > 1 ? `point ${i + 1}: ` : '';
    const node = point.tags.node;
    if (!node)
      return reject('invalid', `${where}no "node" tag (e.g. ${point.measurement},node=12 temperature=21.4 <ts>)`);
    if (point.timestamp === null)
      return reject('missing_timestamp', `${where}no timestamp after the fields (event time is required)`);
    const ts = timestampToMs(point.timestamp, options.precision);
    if (!Number.isFinite(ts) || ts < MIN_PLAUSIBLE_MS) {
      return reject(
        'bad_timestamp',
        `${where}timestamp ${point.timestamp} is before 2000-01-01 in ${options.precision === 'auto' ? 'the unit its magnitude suggests' : options.precision} (check ingest.lineProtocolPrecision)`,
      );
    }
    readings.push({ network: point.tags.network ?? options.defaultNetwork, node, ts, values: point.fields });
  }
  return { ok: true, value: readings };
}

/** Checks a well-formed reading against the network: known network, node and modalities, plausible time. */
export function checkReading(reading: Reading, options: DecodeOptions): Decoded<Reading> {
  if (reading.network !== options.directory.network) {
    return reject(
      'unknown_network',
      `network "${reading.network}" is not served here (this ingest serves "${options.directory.network}")`,
    );
  }
  const unknown = options.directory.unknownIn(reading.node, reading.values);
  if (unknown !== null && 'node' in unknown) {
    return reject(
      'unknown_node',
      `node "${reading.node}" is not in the topology of network "${reading.network}" (version ${options.directory.version})`,
    );
  }
  if (unknown !== null) {
    return reject(
      'unknown_modality',
      `node "${reading.node}" does not measure "${unknown.modality}" (it measures ${options.directory.modalitiesOf(reading.node)?.join(', ')})`,
    );
  }
  const limits = options.plausibility ?? DEFAULT_PLAUSIBILITY;
  for (const modality in reading.values) {
    const why = implausibility(modality, reading.values[modality], limits);
    if (why !== null) return reject('implausible', `node "${reading.node}": ${why}`);
  }
  const ahead = reading.ts - options.now();
  if (ahead > options.maxFutureMs) {
    return reject(
      'future',
      `ts ${new Date(reading.ts).toISOString()} is ${Math.round(ahead / 1000)} s ahead of this machine's clock, more than the allowed ${Math.round(options.maxFutureMs / 1000)} s (validation.maxFutureTicks; check the sender's clock)`,
    );
  }
  return { ok: true, value: reading };
}

/** Strict UTF-8 (throws on a bad sequence); one for every message: without `stream`, decode() keeps no state between calls. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes and checks one message. */
export function decodeMessage(value: Buffer, options: DecodeOptions): Decoded<Reading[]> {
  if (value.length > options.maxMessageBytes) {
    return reject(
      'oversized',
      `message is ${value.length} bytes, above ingest.maxMessageBytes = ${options.maxMessageBytes}`,
    );
  }
  let text: string;
  try {
    text = UTF8.decode(value);
  } catch {
    return reject('malformed', 'message is not valid UTF-8');
  }
  const trimmed = text.trimStart();
  if (trimmed === '') return reject('malformed', 'message is empty');
  const decoded =
    trimmed.startsWith('{') || trimmed.startsWith('[') ? decodeJson(text, options) : decodeLineProtocol(text, options);
  if (!decoded.ok) return decoded;
  for (const reading of decoded.value) {
    const checked = checkReading(reading, options);
    if (!checked.ok) return checked;
  }
  return decoded;
}
