/**
 * Loader for a user's own sensor history: CSV (with a header) or JSON lines,
 * one reading per row/line with a node id, a timestamp and modality values,
 * aligned on a fixed tick into a Series.
 *
 * CSV:   node,ts,temperature,humidity           (any modality columns)
 *        n1,2024-05-01T00:00:00Z,21.5,40.1
 * JSONL: {"node":"n1","ts":"2024-05-01T00:00:00Z","values":{"temperature":21.5}}
 *        (or the modality fields at top level, as in `wsn.readings` messages)
 *
 * Alignment: tick k covers [first + k·tick, first + (k + 1)·tick), where
 * `first` is the earliest reading; each node × modality takes its newest
 * reading in the tick. A tick without one repeats the previous value (up to
 * `maxGapTicks` in a row); before its first reading a node takes its first value.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { UserError } from '../common/errors.ts';
import type { Modality, NodeId } from '../common/types.ts';
import type { Series } from './series.ts';

export interface HistoryReading {
  node: NodeId;
  ts: number;
  values: Record<Modality, number>;
}

export interface HistoryOptions {
  /** 'csv' or 'jsonl'; default from the file extension (.csv, else JSON lines). */
  format?: 'csv' | 'jsonl';
  /** Tick length in ms (default: the median spacing of consecutive readings of a node). */
  tickMs?: number;
  /** Modalities to keep, in series order (default: every one found, in first-seen order). */
  modalities?: readonly Modality[];
  /** Column / field names. Defaults: node, ts. */
  nodeField?: string;
  timeField?: string;
  /** Longest run of empty ticks bridged by repeating the last value (default 10); longer gaps are an error. */
  maxGapTicks?: number;
  onProgress?: (message: string) => void;
}

export interface HistoryDataset {
  series: Series;
  tickMs: number;
  readings: number;
  /** Ticks filled by repeating a value, per node. */
  filled: Record<NodeId, number>;
}

function lineError(file: string, line: number, message: string): UserError {
  return new UserError('HISTORY_PARSE', `${file}:${line}: ${message}`, 'Each reading needs a node id, a timestamp (ISO 8601 or epoch ms) and numeric modality values.');
}

/** ISO 8601 text or epoch milliseconds (number or digits) → ms; NaN when neither. */
export function parseTimestamp(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (typeof value !== 'string' || value.trim() === '') return NaN;
  if (/^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return Date.parse(value);
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return NaN;
}

/** Reads a CSV history; errors name the line and the column. */
export async function readCsvHistory(file: string, options: HistoryOptions = {}): Promise<HistoryReading[]> {
  const nodeField = options.nodeField ?? 'node';
  const timeField = options.timeField ?? 'ts';
  const name = path.basename(file);
  const input = createReadStream(file);
  const parser = input.pipe(parse({ columns: true, skip_empty_lines: true, trim: true, info: true, relax_column_count: false }));
  // pipe() does not forward a read error (a missing file) to the parser.
  input.once('error', (error) => parser.destroy(error));
  const readings: HistoryReading[] = [];
  try {
    for await (const record of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const { record: row, info } = record;
      const line = info.lines;
      const node = row[nodeField];
      if (node === undefined) throw lineError(name, line, `no column "${nodeField}" (columns: ${Object.keys(row).join(', ')})`);
      if (node === '') throw lineError(name, line, `field "${nodeField}" is empty`);
      const ts = parseTimestamp(row[timeField]);
      if (row[timeField] === undefined) throw lineError(name, line, `no column "${timeField}" (columns: ${Object.keys(row).join(', ')})`);
      if (!Number.isFinite(ts)) throw lineError(name, line, `field "${timeField}" is "${row[timeField]}", not a timestamp`);
      const values: Record<Modality, number> = {};
      for (const [key, raw] of Object.entries(row)) {
        if (key === nodeField || key === timeField || raw === '') continue;
        const v = toNumber(raw);
        if (!Number.isFinite(v)) throw lineError(name, line, `field "${key}" is "${raw}", not a number`);
        values[key] = v;
      }
      readings.push({ node, ts, values });
    }
  } catch (error) {
    if (error instanceof UserError || (error as NodeJS.ErrnoException).syscall) throw error;
    const e = error as { message: string; lines?: number };
    throw new UserError('HISTORY_PARSE', `${name}${e.lines ? `:${e.lines}` : ''}: ${e.message}`, 'Check the CSV: a header row, then one reading per row with the same number of columns.');
  }
  return readings;
}

/** Reads a JSON-lines history; errors name the line and the field. */
export async function readJsonlHistory(file: string, options: HistoryOptions = {}): Promise<HistoryReading[]> {
  const nodeField = options.nodeField ?? 'node';
  const timeField = options.timeField ?? 'ts';
  const name = path.basename(file);
  const readings: HistoryReading[] = [];
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let object: unknown;
    try {
      object = JSON.parse(text);
    } catch (error) {
      throw lineError(name, line, `not valid JSON (${(error as Error).message})`);
    }
    if (typeof object !== 'object' || object === null || Array.isArray(object)) throw lineError(name, line, 'not a JSON object');
    const record = object as Record<string, unknown>;
    const node = record[nodeField];
    if (typeof node !== 'string' && typeof node !== 'number') throw lineError(name, line, `field "${nodeField}" is missing or not a string`);
    const ts = parseTimestamp(record[timeField]);
    if (!Number.isFinite(ts)) throw lineError(name, line, `field "${timeField}" is ${JSON.stringify(record[timeField])}, not a timestamp`);
    const source = typeof record.values === 'object' && record.values !== null ? (record.values as Record<string, unknown>) : record;
    const prefix = source === record ? '' : 'values.';
    const values: Record<Modality, number> = {};
    for (const [key, raw] of Object.entries(source)) {
      if (source === record && (key === nodeField || key === timeField || key === 'network')) continue;
      if (raw === null) continue;
      const v = toNumber(raw);
      if (!Number.isFinite(v)) throw lineError(name, line, `field "${prefix}${key}" is ${JSON.stringify(raw)}, not a number`);
      values[key] = v;
    }
    readings.push({ node: String(node), ts, values });
  }
  return readings;
}

function medianSpacing(readings: readonly HistoryReading[]): number {
  const last = new Map<NodeId, number>();
  const gaps: number[] = [];
  for (const r of readings) {
    const previous = last.get(r.node);
    if (previous !== undefined && r.ts > previous) gaps.push(r.ts - previous);
    last.set(r.node, r.ts);
  }
  if (gaps.length === 0) return NaN;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1];
}

/** Aligns readings on ticks of `tickMs` into a Series (times: tick starts, UTC ms). */
export function alignHistory(readings: readonly HistoryReading[], options: HistoryOptions = {}): HistoryDataset {
  if (readings.length === 0) throw new UserError('HISTORY_EMPTY', 'the history holds no readings', 'Pass a file with at least a few readings per node.');
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  const tickMs = options.tickMs ?? medianSpacing(sorted);
  if (!Number.isFinite(tickMs) || tickMs <= 0) throw new UserError('HISTORY_TICK', 'cannot infer a tick: no node has two readings at different times', 'Pass the tick length explicitly.');
  const modalities = options.modalities ? [...options.modalities] : [...new Set(sorted.flatMap((r) => Object.keys(r.values)))];
  const nodes = [...new Set(sorted.map((r) => r.node))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const start = sorted[0].ts;
  const steps = Math.floor((sorted[sorted.length - 1].ts - start) / tickMs) + 1;
  const N = nodes.length;
  const M = modalities.length;
  const nodeIndex = new Map(nodes.map((id, i) => [id, i]));
  const modalityIndex = new Map(modalities.map((m, i) => [m, i]));
  const data = new Float32Array(steps * N * M).fill(NaN);
  for (const r of sorted) {
    const t = Math.floor((r.ts - start) / tickMs);
    const n = nodeIndex.get(r.node)!;
    for (const [m, v] of Object.entries(r.values)) {
      const k = modalityIndex.get(m);
      if (k !== undefined) data[(t * N + n) * M + k] = v; // sorted: the newest in the tick wins
    }
  }
  const maxGap = options.maxGapTicks ?? 10;
  const filled: Record<NodeId, number> = {};
  for (let n = 0; n < N; n++) {
    filled[nodes[n]] = 0;
    for (let m = 0; m < M; m++) {
      let first = -1;
      for (let t = 0; t < steps; t++) {
        if (!Number.isNaN(data[(t * N + n) * M + m])) {
          first = t;
          break;
        }
      }
      if (first < 0) throw new UserError('HISTORY_MISSING', `node ${nodes[n]} has no ${modalities[m]} value at all`, 'Leave this modality out, or remove the node.');
      let gap = 0;
      for (let t = 0; t < steps; t++) {
        const k = (t * N + n) * M + m;
        if (!Number.isNaN(data[k])) {
          gap = 0;
          continue;
        }
        if (t > first && ++gap > maxGap) {
          throw new UserError('HISTORY_GAP', `node ${nodes[n]} has no ${modalities[m]} reading for more than ${maxGap} ticks from ${new Date(start + t * tickMs).toISOString()}`, 'Raise maxGapTicks, or split the history at the gap.');
        }
        data[k] = t < first ? data[(first * N + n) * M + m] : data[((t - 1) * N + n) * M + m];
        filled[nodes[n]]++;
      }
    }
  }
  const times = Array.from({ length: steps }, (_, t) => start + t * tickMs);
  return { series: { nodes, modalities, steps, data, times }, tickMs, readings: readings.length, filled };
}

/** Reads and aligns a history file (CSV or JSON lines). */
export async function loadHistory(file: string, options: HistoryOptions = {}): Promise<HistoryDataset> {
  const format = options.format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  options.onProgress?.(`history: reading ${path.basename(file)} (${format})`);
  let readings: HistoryReading[];
  try {
    readings = format === 'csv' ? await readCsvHistory(file, options) : await readJsonlHistory(file, options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') throw new UserError('HISTORY_MISSING', `cannot read ${file}: ${(error as Error).message}`, 'Check the path.');
    throw error;
  }
  options.onProgress?.(`history: ${readings.length} readings; aligning`);
  return alignHistory(readings, options);
}
