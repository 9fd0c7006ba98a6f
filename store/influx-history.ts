/**
 * The stored history of a network read back from InfluxDB for a retraining:
 * the node-ticks of the `anomaly` measurement (one point per node and tick:
 * readings as `value_<modality>`, the verdict `is_anomaly` and `silenced`)
 * over a period, in pages of bounded size, and the episodes operators marked
 * (`feedback`). Never one unbounded query: a page spans as many ticks as fit
 * `pageRows` node-ticks for the network's node count, and a page that still
 * comes back full (points off the tick grid, more nodes than known) is split.
 */
import { escape } from 'influx';
import { FEEDBACK_MEASUREMENT } from './feedback.ts';
import { VALUE_PREFIX, errorField, valueField } from './influx-lines.ts';

/** Runs one InfluxQL query and returns its rows (time in UTC ms), [] when the database does not exist. */
export type InfluxRows = (influxql: string) => Promise<Array<Record<string, unknown>>>;

/** One stored node-tick: its readings and what the detector said of it. */
export interface StoredNodeTick {
  node: string;
  /** The tick (UTC ms). */
  time: number;
  values: Record<string, number>;
  alerted: boolean;
  silenced: boolean;
}

export interface NodeTickQuery {
  network: string;
  /** Period [from, until), UTC ms. */
  from: number;
  until: number;
  tickMs: number;
  modalities: readonly string[];
  /** Nodes of the network (sizes the pages). */
  nodes: number;
  /** Most node-ticks one query may return. */
  pageRows: number;
}

/** A half-open time span [from, until), UTC ms. */
export interface Span {
  from: number;
  until: number;
}

/** The period cut into spans of whole ticks holding at most `pageRows` node-ticks each (one point per node-tick). */
export function pageSpans(from: number, until: number, tickMs: number, nodes: number, pageRows: number): Span[] {
  const ticksPerPage = Math.max(1, Math.floor(pageRows / Math.max(1, nodes)));
  const step = ticksPerPage * tickMs;
  const spans: Span[] = [];
  for (let start = from; start < until; start += step)
    spans.push({ from: start, until: Math.min(until, start + step) });
  return spans;
}

const isoMs = (ms: number): string => `${Math.round(ms)}ms`;

function nodeTickSelect(query: NodeTickQuery, span: Span, limit: number, offset = 0): string {
  const fields = ['"node"', ...query.modalities.map((m) => `"${valueField(m)}"`), '"is_anomaly"', '"silenced"'];
  return (
    `SELECT ${fields.join(', ')} FROM "anomaly" WHERE "network" = ${escape.stringLit(query.network)}` +
    ` AND time >= ${isoMs(span.from)} AND time < ${isoMs(span.until)} LIMIT ${limit}${offset > 0 ? ` OFFSET ${offset}` : ''}`
  );
}

function toNodeTick(row: Record<string, unknown>, modalities: readonly string[]): StoredNodeTick | undefined {
  const values: Record<string, number> = {};
  for (const m of modalities) {
    const value = row[valueField(m)];
    if (typeof value === 'number' && Number.isFinite(value)) values[m] = value;
  }
  const node = row.node;
  if (typeof node !== 'string' || node === '') return undefined;
  return { node, time: Number(row.time), values, alerted: row.is_anomaly === true, silenced: row.silenced === true };
}

/**
 * Every node-tick of the network in the period, page by page (each page a
 * list, oldest first). A page that returns more than `pageRows` rows is split
 * in two at a tick boundary; a single tick with more rows than that is read
 * with LIMIT/OFFSET.
 */
export async function* readNodeTicks(rows: InfluxRows, query: NodeTickQuery): AsyncGenerator<StoredNodeTick[]> {
  const pending = pageSpans(query.from, query.until, query.tickMs, query.nodes, query.pageRows).reverse();
  while (pending.length > 0) {
    const span = pending.pop()!;
    const page = await rows(nodeTickSelect(query, span, query.pageRows + 1));
    if (page.length > query.pageRows) {
      const ticks = Math.ceil((span.until - span.from) / query.tickMs);
      if (ticks > 1) {
        const middle = span.from + Math.floor(ticks / 2) * query.tickMs;
        pending.push({ from: middle, until: span.until }, { from: span.from, until: middle });
        continue;
      }
      yield* readOneTick(rows, query, span);
      continue;
    }
    yield page.map((row) => toNodeTick(row, query.modalities)).filter((row) => row !== undefined);
  }
}

async function* readOneTick(rows: InfluxRows, query: NodeTickQuery, span: Span): AsyncGenerator<StoredNodeTick[]> {
  for (let offset = 0; ; offset += query.pageRows) {
    const page = await rows(nodeTickSelect(query, span, query.pageRows, offset));
    yield page.map((row) => toNodeTick(row, query.modalities)).filter((row) => row !== undefined);
    if (page.length < query.pageRows) return;
  }
}

/** The node ids the network has stored points for. */
export async function storedNodes(rows: InfluxRows, network: string): Promise<string[]> {
  const result = await rows(
    `SHOW TAG VALUES FROM "anomaly" WITH KEY = "node" WHERE "network" = ${escape.stringLit(network)}`,
  );
  return result.map((row) => String(row.value));
}

/** The modalities the `anomaly` measurement holds readings of (its `value_<modality>` fields). */
export async function storedModalities(rows: InfluxRows): Promise<string[]> {
  const result = await rows('SHOW FIELD KEYS FROM "anomaly"');
  return result
    .map((row) => String(row.fieldKey))
    .filter((key) => key.startsWith(VALUE_PREFIX))
    .map((key) => key.slice(VALUE_PREFIX.length));
}

/** An alert an operator marked: a confirmed fault (`true`) or a false alarm (`false`). */
export interface MarkedEpisode {
  node: string;
  verdict: 'true' | 'false';
  /** The alert's start and end (UTC ms); an alert still firing when marked ends at Infinity. */
  from: number;
  to: number;
}

/** Most feedback marks read for one retraining: marks are made by hand, a handful a week. */
const FEEDBACK_LIMIT = 10_000;

/** The marked alerts of the network that overlap the period (the newest mark of each alert: its point is rewritten). */
export async function markedEpisodes(rows: InfluxRows, network: string, span: Span): Promise<MarkedEpisode[]> {
  const result = await rows(
    `SELECT "node", "verdict", "ends_at" FROM "${FEEDBACK_MEASUREMENT}" WHERE "network" = ${escape.stringLit(network)} AND time < ${isoMs(span.until)} ORDER BY time DESC LIMIT ${FEEDBACK_LIMIT}`,
  );
  return result
    .map((row) => {
      const endsAt = Number(row.ends_at);
      return {
        node: String(row.node),
        verdict: row.verdict === 'true' ? ('true' as const) : ('false' as const),
        from: Number(row.time),
        to: endsAt > 0 ? endsAt : Infinity,
      };
    })
    .filter((episode) => episode.to >= span.from);
}

/** The modalities the `anomaly` measurement holds reconstruction errors of (its `err_<modality>` fields). */
export async function errorModalities(rows: InfluxRows): Promise<string[]> {
  const result = await rows('SHOW FIELD KEYS FROM "anomaly"');
  return result
    .map((row) => String(row.fieldKey))
    .filter((key) => key.startsWith('err_'))
    .map((key) => key.slice('err_'.length));
}

/** One node's mean reconstruction error over one UTC day, averaged over its modalities. */
export interface DailyError {
  node: string;
  /** Start of the day, UTC ms. */
  day: number;
  error: number;
}

/**
 * Daily mean reconstruction errors per node over [from, until), aggregated by
 * InfluxDB (one row per node and day, whatever the number of ticks).
 */
export async function dailyErrors(
  rows: InfluxRows,
  network: string,
  span: Span,
  modalities: readonly string[],
): Promise<DailyError[]> {
  if (modalities.length === 0) return [];
  const means = modalities.map((m, i) => `MEAN("${errorField(m)}") AS "e${i}"`).join(', ');
  const result = await rows(
    `SELECT ${means} FROM "anomaly" WHERE "network" = ${escape.stringLit(network)} AND time >= ${isoMs(span.from)} AND time < ${isoMs(span.until)} GROUP BY time(1d), "node" fill(none)`,
  );
  return result.flatMap((row) => {
    const values = modalities.map((_, i) => row[`e${i}`]).filter((v): v is number => typeof v === 'number');
    if (values.length === 0) return [];
    return [
      { node: String(row.node), day: Number(row.time), error: values.reduce((a, b) => a + b, 0) / values.length },
    ];
  });
}
