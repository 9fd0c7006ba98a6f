/**
 * Loader for a user's own sensor history: CSV (with a header) or JSON lines,
 * one reading per row/line with a node id, a timestamp and modality values,
 * aligned on a fixed tick into a Series.
 *
 * CSV:   node,ts,temperature,humidity           (any modality columns)
 *        n1,2024-05-01T00:00:00Z,21.5,40.1
 * JSONL: {"node":"n1","ts":"2024-05-01T00:00:00Z","values":{"temperature":21.5}}
 *        (or the modality fields at top level, as in `wsn.readings` messages)
 * An empty field (or NA, NaN, null, None) is a missing value, not an error.
 *
 * Alignment is the ingest's: tick k covers [k·tickMs, (k + 1)·tickMs) in UTC
 * ms (`floor(ts / tickMs) * tickMs`), and a node × modality takes its reading
 * nearest to the middle of the tick. Real histories have holes; none is
 * refused, each is filled and flagged in `mask` (0 = filled):
 *  - a gap of at most `maxGapTicks` inside a node's readings repeats the last
 *    value, as the live ingest does;
 *  - a longer gap, and the ticks before a node's first reading (late start)
 *    or after its last (early end), are rebuilt from the other nodes: the
 *    median of the modality over the nodes that have a reading at that tick,
 *    plus the node's own median offset from it (so the node keeps its level
 *    and follows the network's daily cycle instead of a flat line that would
 *    look like a stuck sensor). At a tick where no node has a reading, the
 *    node's nearest value is held.
 * Only a node that never reports a modality at all is left out (its values
 * cannot be rebuilt), and named in the summary.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { UserError } from '../common/errors.ts';
import type { Modality, NodeId } from '../common/types.ts';
import type { Series } from './series.ts';
import { median, medianOfSorted } from '../common/median.ts';

export interface HistoryReading {
  node: NodeId;
  ts: number;
  values: Record<Modality, number>;
}

export interface HistoryOptions {
  /** 'csv' or 'jsonl'; default from the file extension (.csv, else JSON lines). */
  format?: 'csv' | 'jsonl';
  /** Tick length in ms, on the ingest's UTC grid (default: the median spacing of consecutive readings of a node). */
  tickMs?: number;
  /** Modalities to keep, in series order (default: every one found, in first-seen order). */
  modalities?: readonly Modality[];
  /** Column / field names. Defaults: node, ts. */
  nodeField?: string;
  timeField?: string;
  /** Longest run of empty ticks inside a node's readings bridged by repeating the last value (default 10); longer gaps are rebuilt from the other nodes. */
  maxGapTicks?: number;
  onProgress?: (message: string) => void;
}

export interface HistoryDataset {
  series: Series;
  tickMs: number;
  readings: number;
  /** Values filled (held or rebuilt; summed over modalities), per node. */
  filled: Record<NodeId, number>;
  /** Same layout as series.data: 1 where the value is a reading of that tick, 0 where it was filled. */
  mask: Uint8Array;
  summary: HistoryFillSummary;
}

/** What alignment had to fill, per node (counts of node × modality × tick values). */
export interface NodeFill {
  node: NodeId;
  /** Values that are readings. */
  observed: number;
  /** Values repeated over a short gap (at most maxGapTicks). */
  held: number;
  /** Values rebuilt from the other nodes (long gaps, late start, early end). */
  rebuilt: number;
  /** Ticks before the node's first reading / after its last. */
  lateStartTicks: number;
  earlyEndTicks: number;
  /** Longest run of ticks without a reading inside the node's readings. */
  longestGapTicks: number;
}

export interface HistoryFillSummary {
  tickMs: number;
  steps: number;
  maxGapTicks: number;
  /** Median spacing of a node's consecutive readings, ms (NaN when no node has two). */
  medianSpacingMs: number;
  nodes: NodeFill[];
  /** Nodes left out, and why. */
  dropped: Array<{ node: NodeId; reason: string }>;
  /** Fraction of all values that were filled. */
  filledFraction: number;
}

function lineError(file: string, line: number, message: string): UserError {
  return new UserError(
    'HISTORY_PARSE',
    `${file}:${line}: ${message}`,
    'Each reading needs a node id, a timestamp (ISO 8601 or epoch ms) and numeric modality values.',
  );
}

/** ISO 8601 text or epoch milliseconds (number or digits) → ms; NaN when neither. */
export function parseTimestamp(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (typeof value !== 'string' || value.trim() === '') return NaN;
  if (/^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return Date.parse(value);
}

/** Spellings of a missing value in exported sensor data. */
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);

function isMissing(value: unknown): boolean {
  return (
    value === null || value === undefined || (typeof value === 'string' && MISSING.has(value.trim().toLowerCase()))
  );
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
  const parser = input.pipe(
    parse({ columns: true, skip_empty_lines: true, trim: true, info: true, relax_column_count: false }),
  );
  // pipe() does not forward a read error (a missing file) to the parser.
  input.once('error', (error) => parser.destroy(error));
  const readings: HistoryReading[] = [];
  try {
    for await (const record of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const { record: row, info } = record;
      const line = info.lines;
      const node = row[nodeField];
      if (node === undefined)
        throw lineError(name, line, `no column "${nodeField}" (columns: ${Object.keys(row).join(', ')})`);
      if (node === '') throw lineError(name, line, `field "${nodeField}" is empty`);
      const ts = parseTimestamp(row[timeField]);
      if (row[timeField] === undefined)
        throw lineError(name, line, `no column "${timeField}" (columns: ${Object.keys(row).join(', ')})`);
      if (!Number.isFinite(ts))
        throw lineError(name, line, `field "${timeField}" is "${row[timeField]}", not a timestamp`);
      const values: Record<Modality, number> = {};
      for (const [key, raw] of Object.entries(row)) {
        if (key === nodeField || key === timeField || isMissing(raw)) continue;
        const v = toNumber(raw);
        if (!Number.isFinite(v)) throw lineError(name, line, `field "${key}" is "${raw}", not a number`);
        values[key] = v;
      }
      readings.push({ node, ts, values });
    }
  } catch (error) {
    if (error instanceof UserError || (error as NodeJS.ErrnoException).syscall) throw error;
    const e = error as { message: string; lines?: number };
    throw new UserError(
      'HISTORY_PARSE',
      `${name}${e.lines ? `:${e.lines}` : ''}: ${e.message}`,
      'Check the CSV: a header row, then one reading per row with the same number of columns.',
    );
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
    if (typeof object !== 'object' || object === null || Array.isArray(object))
      throw lineError(name, line, 'not a JSON object');
    const record = object as Record<string, unknown>;
    const node = record[nodeField];
    if (typeof node !== 'string' && typeof node !== 'number')
      throw lineError(name, line, `field "${nodeField}" is missing or not a string`);
    const ts = parseTimestamp(record[timeField]);
    if (!Number.isFinite(ts))
      throw lineError(name, line, `field "${timeField}" is ${JSON.stringify(record[timeField])}, not a timestamp`);
    const source =
      typeof record.values === 'object' && record.values !== null ? (record.values as Record<string, unknown>) : record;
    const prefix = source === record ? '' : 'values.';
    const values: Record<Modality, number> = {};
    for (const [key, raw] of Object.entries(source)) {
      if (source === record && (key === nodeField || key === timeField || key === 'network')) continue;
      if (isMissing(raw)) continue;
      const v = toNumber(raw);
      if (!Number.isFinite(v))
        throw lineError(name, line, `field "${prefix}${key}" is ${JSON.stringify(raw)}, not a number`);
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

/** Aligns readings on the UTC tick grid of `tickMs` into a Series (times: tick starts, UTC ms), filling and flagging holes. */
export function alignHistory(readings: readonly HistoryReading[], options: HistoryOptions = {}): HistoryDataset {
  if (readings.length === 0)
    throw new UserError(
      'HISTORY_EMPTY',
      'the history holds no readings',
      'Pass a file with at least a few readings per node.',
    );
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  const spacing = medianSpacing(sorted);
  const tickMs = options.tickMs ?? spacing;
  if (!Number.isFinite(tickMs) || tickMs <= 0)
    throw new UserError(
      'HISTORY_TICK',
      'cannot infer a tick: no node has two readings at different times',
      'Pass the tick length explicitly (--tick-ms).',
    );
  const modalities = options.modalities
    ? [...options.modalities]
    : [...new Set(sorted.flatMap((r) => Object.keys(r.values)))];
  if (modalities.length === 0)
    throw new UserError(
      'HISTORY_MISSING',
      'the history has no modality values at all',
      'Each reading needs at least one numeric modality field.',
    );
  const { nodes, dropped } = nodesWithEveryModality(sorted, modalities);
  const grid = placeOnGrid(sorted, nodes, modalities, tickMs);
  const { steps, data, mask } = grid;
  const maxGap = options.maxGapTicks ?? 10;
  const fills = fillHoles(grid, nodes, networkReference(grid), maxGap);
  const filled = Object.fromEntries(fills.map((f) => [f.node, f.held + f.rebuilt]));
  const total = steps * nodes.length * modalities.length;
  const filledCount = fills.reduce((sum, f) => sum + f.held + f.rebuilt, 0);
  const summary: HistoryFillSummary = {
    tickMs,
    steps,
    maxGapTicks: maxGap,
    medianSpacingMs: spacing,
    nodes: fills,
    dropped,
    filledFraction: total > 0 ? filledCount / total : 0,
  };
  const times = Array.from({ length: steps }, (_, t) => grid.start + t * tickMs);
  return {
    series: { nodes, modalities, steps, data, times },
    tickMs,
    readings: readings.length,
    filled,
    mask,
    summary,
  };
}

/** The nodes (in natural order) that report every modality; a node that never reports one cannot be rebuilt: it is left out, saying so. */
function nodesWithEveryModality(
  sorted: readonly HistoryReading[],
  modalities: Modality[],
): { nodes: NodeId[]; dropped: HistoryFillSummary['dropped'] } {
  const allNodes = [...new Set(sorted.map((r) => r.node))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const wanted = new Set(modalities);
  const reported = new Map(allNodes.map((node) => [node, new Set<Modality>()]));
  for (const r of sorted) for (const m of Object.keys(r.values)) if (wanted.has(m)) reported.get(r.node)!.add(m);
  const dropped: HistoryFillSummary['dropped'] = [];
  const nodes = allNodes.filter((node) => {
    const missing = modalities.filter((m) => !reported.get(node)!.has(m));
    if (missing.length > 0) dropped.push({ node, reason: `no ${missing.join(', ')} reading at all` });
    return missing.length === 0;
  });
  if (nodes.length === 0) {
    const absent = modalities.filter((m) => allNodes.every((node) => !reported.get(node)!.has(m)));
    throw new UserError(
      'HISTORY_MISSING',
      absent.length > 0
        ? `no node reports ${absent.join(', ')}`
        : `every node lacks one of ${modalities.join(', ')} entirely (${dropped
            .slice(0, 5)
            .map((d) => `${d.node}: ${d.reason}`)
            .join('; ')})`,
      'Leave the modality out (choose the modalities to keep), or add its readings.',
    );
  }
  return { nodes, dropped };
}

/** Values on the tick grid, indexed (tick × N + node) × M + modality; NaN (mask 0) where no reading fell. */
interface Grid {
  data: Float32Array;
  mask: Uint8Array;
  steps: number;
  /** Start of the first tick, UTC ms. */
  start: number;
  N: number;
  M: number;
}

/** The ingest's grid: ticks start at multiples of tickMs since the epoch; per tick, node and modality the reading nearest the tick's middle. */
function placeOnGrid(sorted: readonly HistoryReading[], nodes: NodeId[], modalities: Modality[], tickMs: number): Grid {
  const M = modalities.length;
  const modalityIndex = new Map(modalities.map((m, i) => [m, i]));
  const tickOf = (ts: number): number => Math.floor(ts / tickMs);
  const firstTick = tickOf(sorted[0].ts);
  const start = firstTick * tickMs;
  const steps = tickOf(sorted[sorted.length - 1].ts) - firstTick + 1;
  const N = nodes.length;
  const nodeIndex = new Map(nodes.map((id, i) => [id, i]));
  const data = new Float32Array(steps * N * M).fill(NaN);
  const distance = new Float64Array(steps * N * M).fill(Infinity);
  for (const r of sorted) {
    const n = nodeIndex.get(r.node);
    if (n === undefined) continue;
    const t = tickOf(r.ts) - firstTick;
    // Nearest to the middle of the tick wins (ties: the earlier), as in the ingest.
    const d = Math.abs(r.ts - (start + (t + 0.5) * tickMs));
    for (const [m, v] of Object.entries(r.values)) {
      const k = modalityIndex.get(m);
      if (k === undefined) continue;
      const i = (t * N + n) * M + k;
      if (d < distance[i]) {
        data[i] = v;
        distance[i] = d;
      }
    }
  }
  const mask = new Uint8Array(steps * N * M);
  for (let i = 0; i < data.length; i++) mask[i] = Number.isNaN(data[i]) ? 0 : 1;
  return { data, mask, steps, start, N, M };
}

/**
 * The network's median per tick and modality (over the nodes with a reading), and each node's
 * median offset from the median of the *other* nodes: a rebuilt value is that median + offset,
 * and the node is never among the nodes it is rebuilt from.
 */
function networkReference({ data, mask, steps, N, M }: Grid): { networkMedian: Float64Array; offset: number[] } {
  const networkMedian = new Float64Array(steps * M);
  const differences: number[][] = Array.from({ length: N * M }, () => []);
  const column: Array<{ value: number; n: number }> = [];
  for (let t = 0; t < steps; t++) {
    for (let k = 0; k < M; k++) {
      column.length = 0;
      for (let n = 0; n < N; n++) if (mask[(t * N + n) * M + k]) column.push({ value: data[(t * N + n) * M + k], n });
      column.sort((a, b) => a.value - b.value);
      networkMedian[t * M + k] = medianOfSorted(column.length, (i) => column[i].value);
      if (column.length < 2) continue;
      column.forEach(({ value, n }, j) => {
        const others = medianOfSorted(column.length - 1, (i) => column[i < j ? i : i + 1].value);
        differences[n * M + k].push(value - others);
      });
    }
  }
  return { networkMedian, offset: differences.map((list) => (list.length > 0 ? median(list) : 0)) };
}

/** Fills every hole of the grid in place; per node, what was observed, held and rebuilt. */
function fillHoles(
  grid: Grid,
  nodes: NodeId[],
  reference: { networkMedian: Float64Array; offset: number[] },
  maxGap: number,
): NodeFill[] {
  const fills: NodeFill[] = nodes.map((node) => ({
    node,
    observed: 0,
    held: 0,
    rebuilt: 0,
    lateStartTicks: 0,
    earlyEndTicks: 0,
    longestGapTicks: 0,
  }));
  for (let n = 0; n < grid.N; n++) {
    const fill = fills[n];
    let nodeFirst = grid.steps;
    let nodeLast = -1;
    for (let k = 0; k < grid.M; k++) {
      const { first, last } = fillColumn(grid, n, k, reference, maxGap, fill);
      nodeFirst = Math.min(nodeFirst, first);
      nodeLast = Math.max(nodeLast, last);
    }
    fill.lateStartTicks = nodeFirst;
    fill.earlyEndTicks = grid.steps - 1 - nodeLast;
  }
  return fills;
}

/**
 * Fills the holes of one node's modality: a gap inside its readings of at most `maxGap` ticks
 * holds the last value; longer gaps, and before its first or after its last reading, are rebuilt
 * from the network's median + the node's offset. Returns its first and last tick with a reading.
 */
function fillColumn(
  grid: Grid,
  n: number,
  k: number,
  { networkMedian, offset }: { networkMedian: Float64Array; offset: number[] },
  maxGap: number,
  fill: NodeFill,
): { first: number; last: number } {
  const { data, mask, steps, N, M } = grid;
  const at = (t: number): number => (t * N + n) * M + k;
  let first = -1;
  let last = -1;
  for (let t = 0; t < steps; t++) {
    if (!mask[at(t)]) continue;
    if (first < 0) first = t;
    last = t;
    fill.observed++;
  }
  // Walk the runs of ticks without a reading.
  let t = 0;
  while (t < steps) {
    if (mask[at(t)]) {
      t++;
      continue;
    }
    let end = t;
    while (end + 1 < steps && !mask[at(end + 1)]) end++;
    const length = end - t + 1;
    const inside = t > first && end < last;
    if (inside) fill.longestGapTicks = Math.max(fill.longestGapTicks, length);
    if (inside && length <= maxGap) {
      for (let u = t; u <= end; u++) data[at(u)] = data[at(t - 1)];
      fill.held += length;
    } else {
      for (let u = t; u <= end; u++) {
        const reference = networkMedian[u * M + k];
        // No node has a reading at this tick: hold the nearest value of this node.
        data[at(u)] = Number.isFinite(reference)
          ? reference + offset[n * M + k]
          : u < first
            ? data[at(first)]
            : data[at(u - 1)];
      }
      fill.rebuilt += length;
    }
    t = end + 1;
  }
  return { first, last };
}

const percent = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** The summary as a few lines for a progress stream: what was filled, which nodes start late or end early, who was left out. */
export function describeHistoryFill(summary: HistoryFillSummary): string[] {
  const { nodes, tickMs, steps, maxGapTicks } = summary;
  const values = nodes.reduce((sum, f) => sum + f.observed + f.held + f.rebuilt, 0);
  const held = nodes.reduce((sum, f) => sum + f.held, 0);
  const rebuilt = nodes.reduce((sum, f) => sum + f.rebuilt, 0);
  const lines = [
    `${nodes.length} nodes on a ${tickMs / 1000} s UTC tick grid, ${steps} ticks; ${percent(summary.filledFraction)} of the values filled (held over gaps of at most ${maxGapTicks} ticks: ${percent(values ? held / values : 0)}; rebuilt from the other nodes' median + the node's offset: ${percent(values ? rebuilt / values : 0)})`,
  ];
  const ticks = (n: number): string => `${n} tick${n === 1 ? '' : 's'}`;
  const list = (items: string[]): string =>
    items.length > 8 ? `${items.slice(0, 8).join(', ')} and ${items.length - 8} more` : items.join(', ');
  const late = nodes.filter((f) => f.lateStartTicks > 0).sort((a, b) => b.lateStartTicks - a.lateStartTicks);
  if (late.length > 0)
    lines.push(
      `starts late (rebuilt before its first reading): ${list(late.map((f) => `${f.node} (${ticks(f.lateStartTicks)})`))}`,
    );
  const early = nodes.filter((f) => f.earlyEndTicks > 0).sort((a, b) => b.earlyEndTicks - a.earlyEndTicks);
  if (early.length > 0)
    lines.push(
      `ends early (rebuilt after its last reading): ${list(early.map((f) => `${f.node} (${ticks(f.earlyEndTicks)})`))}`,
    );
  const gappy = nodes
    .filter((f) => f.longestGapTicks > maxGapTicks)
    .sort((a, b) => b.longestGapTicks - a.longestGapTicks);
  if (gappy.length > 0)
    lines.push(
      `${gappy.length} node(s) with gaps longer than ${maxGapTicks} ticks (rebuilt): ${list(gappy.map((f) => `${f.node} (longest ${f.longestGapTicks})`))}`,
    );
  for (const { node, reason } of summary.dropped) lines.push(`left out node ${node}: ${reason}`);
  if (Number.isFinite(summary.medianSpacingMs) && summary.medianSpacingMs > 1.5 * tickMs) {
    lines.push(
      `readings are ${(summary.medianSpacingMs / 1000).toFixed(1)} s apart (median) but the tick is ${tickMs / 1000} s: most values are filled; use a tick near the spacing (--tick-ms, and the same ingest.tickMs live)`,
    );
  }
  return lines;
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
    if (code === 'ENOENT' || code === 'EACCES')
      throw new UserError('HISTORY_MISSING', `cannot read ${file}: ${(error as Error).message}`, 'Check the path.');
    throw error;
  }
  options.onProgress?.(`history: ${readings.length} readings; aligning`);
  const dataset = alignHistory(readings, options);
  for (const line of describeHistoryFill(dataset.summary)) options.onProgress?.(`history: ${line}`);
  return dataset;
}
