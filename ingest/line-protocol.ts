import { reject, type Decoded } from './rejection.ts';

/**
 * A parser for the InfluxDB line protocol, as Telegraf's Kafka output writes
 * it: `measurement[,tag=value…] field=value[,field=value…] [timestamp]`, one
 * point per line. Only what a sensor reading needs is kept: tags as strings,
 * numeric fields (floats, `i` integers, `u` unsigned) as numbers. String and
 * boolean fields are reported as type errors rather than dropped, so a
 * misconfigured gateway shows up in the DLQ instead of as missing data.
 */
export interface LinePoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
  /** Raw timestamp as written (integer, unit unknown until resolved); null when absent. */
  timestamp: bigint | null;
}

export type Precision = 'auto' | 'ns' | 'us' | 'ms' | 's';

/** Splits on `separator` outside of double quotes, honouring backslash escapes. */
function splitUnescaped(text: string, separator: string, respectQuotes: boolean): string[] {
  const parts: string[] = [];
  let current = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + text[i + 1];
      i++;
      continue;
    }
    if (respectQuotes && ch === '"') inQuotes = !inQuotes;
    if (ch === separator && !inQuotes) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

const unescape = (text: string): string => text.replace(/\\(.)/g, '$1');

/** Names that would reach into the prototype of the tags or fields object (see decode.ts). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Splits a line into its (up to) three space-separated sections, respecting escapes and quoted strings. */
function sections(line: string): string[] {
  return splitUnescaped(line, ' ', true).filter((s) => s.length > 0);
}

function parseKeyValue(pair: string): [string, string] | null {
  const parts = splitUnescaped(pair, '=', true);
  if (parts.length < 2 || parts[0] === '') return null;
  return [unescape(parts[0]), parts.slice(1).join('=')];
}

const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseFieldValue(name: string, raw: string): Decoded<number> {
  if (raw.startsWith('"')) return reject('invalid', `field "${name}" is a string (${raw}); readings need numbers`);
  if (/^(t|T|true|True|TRUE|f|F|false|False|FALSE)$/.test(raw))
    return reject('invalid', `field "${name}" is a boolean (${raw}); readings need numbers`);
  if (/^[+-]?\d+[iu]$/.test(raw)) return { ok: true, value: Number(raw.slice(0, -1)) };
  if (/^[+-]?(nan|inf|infinity)$/i.test(raw))
    return reject('non_finite', `field "${name}" is ${raw}; readings must be finite numbers`);
  if (!FLOAT.test(raw))
    return reject('malformed', `field "${name}" has value ${JSON.stringify(raw)}, which is not a number`);
  const value = Number(raw);
  if (!Number.isFinite(value))
    return reject(
      'non_finite',
      `field "${name}" is ${raw}, which overflows to ${value}; readings must be finite numbers`,
    );
  return { ok: true, value };
}

/** Parses one line. `where` names the line for messages (e.g. "line 2"). */
export function parseLine(line: string, where: string): Decoded<LinePoint> {
  const parts = sections(line.trim());
  if (parts.length < 2 || parts.length > 3) {
    return reject(
      'malformed',
      `${where}: expected "measurement[,tags] fields [timestamp]", found ${parts.length} space-separated section(s)`,
    );
  }
  const [head, fieldSection, timeSection] = parts;
  const headParts = splitUnescaped(head, ',', false);
  const measurement = unescape(headParts[0]);
  if (!measurement) return reject('malformed', `${where}: the measurement name is empty`);
  const tags: Record<string, string> = {};
  for (const pair of headParts.slice(1)) {
    const kv = parseKeyValue(pair);
    if (!kv || kv[1] === '') return reject('malformed', `${where}: tag ${JSON.stringify(pair)} is not key=value`);
    if (FORBIDDEN_KEYS.has(kv[0])) return reject('forbidden_key', `${where}: tag key ${kv[0]} is not allowed`);
    tags[kv[0]] = unescape(kv[1]);
  }
  const fields: Record<string, number> = {};
  for (const pair of splitUnescaped(fieldSection, ',', true)) {
    const kv = parseKeyValue(pair);
    if (!kv || kv[1] === '') return reject('malformed', `${where}: field ${JSON.stringify(pair)} is not key=value`);
    if (FORBIDDEN_KEYS.has(kv[0])) return reject('forbidden_key', `${where}: field key ${kv[0]} is not allowed`);
    const value = parseFieldValue(kv[0], kv[1]);
    if (!value.ok)
      return { ok: false, rejection: { ...value.rejection, message: `${where}: ${value.rejection.message}` } };
    fields[kv[0]] = value.value;
  }
  let timestamp: bigint | null = null;
  if (timeSection !== undefined) {
    if (!/^-?\d+$/.test(timeSection))
      return reject('bad_timestamp', `${where}: timestamp ${JSON.stringify(timeSection)} is not an integer`);
    timestamp = BigInt(timeSection);
  }
  return { ok: true, value: { measurement, tags, fields, timestamp } };
}

/** Parses a message of one or more lines (blank lines and `#` comments are skipped). */
export function parseLines(text: string): Decoded<LinePoint[]> {
  const points: LinePoint[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const point = parseLine(line, `line ${i + 1}`);
    if (!point.ok) return point;
    points.push(point.value);
  }
  if (points.length === 0) return reject('malformed', 'the message holds no line-protocol point');
  return { ok: true, value: points };
}

const NS_PER: Record<Exclude<Precision, 'auto'>, bigint> = { ns: 1_000_000n, us: 1_000n, ms: 1n, s: 1n };

/**
 * A line-protocol timestamp in UTC ms. With `auto`, the unit follows from the
 * magnitude (valid for dates between 1973 and 5138): ≥1e17 ns, ≥1e14 µs,
 * ≥1e11 ms, else seconds.
 */
export function timestampToMs(raw: bigint, precision: Precision): number {
  let unit: Exclude<Precision, 'auto'> = precision === 'auto' ? 's' : precision;
  if (precision === 'auto') {
    const magnitude = raw < 0n ? -raw : raw;
    unit = magnitude >= 10n ** 17n ? 'ns' : magnitude >= 10n ** 14n ? 'us' : magnitude >= 10n ** 11n ? 'ms' : 's';
  }
  if (unit === 's') return Number(raw * 1000n);
  return Number(raw / NS_PER[unit]);
}
