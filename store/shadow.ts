/**
 * The `shadow` measurement: while a candidate model version is shadow-scored
 * beside the live one (`wsn-watch model shadow VERSION`), one small point per
 * node-tick it judged (tags network, node, model; fields probability,
 * is_anomaly, alert_started). It doubles the points of a network only while a
 * shadow runs; the `anomaly` points of the live model are unchanged by it.
 */
import { escape } from 'influx';
import type { TimedPoint } from './influx-lines.ts';
import type { InfluxRows } from './influx-history.ts';

export const SHADOW_MEASUREMENT = 'shadow';

/** One node-tick as the shadowing version scored it. */
export interface ShadowScore {
  network: string;
  cluster: string;
  node: string;
  tick: number;
  /** The shadowing version (`v4`). */
  model: string;
  probability: number;
  /** Above the version's own threshold and not explained by a stronger neighbour (as `anomaly.is_anomaly`). */
  isAnomaly: boolean;
  /** True on the tick the version's own alert tracker opened an anomaly episode on this node. */
  alertStarted: boolean;
}

export function shadowPoints(scores: readonly ShadowScore[]): TimedPoint[] {
  return scores.map((score) => ({
    measurement: SHADOW_MEASUREMENT,
    tags: { network: score.network, node: score.node, model: score.model },
    fields: { probability: score.probability, is_anomaly: score.isAnomaly, alert_started: score.alertStarted },
    timestamp: score.tick,
  }));
}

/** The stored verdicts of one model over a period, for `wsn-watch model compare`. */
export interface VerdictQuery {
  network: string;
  /** [from, until), UTC ms. */
  from: number;
  until: number;
  /** Only the points of this version (the `model` tag); all versions when absent. */
  model?: string;
}

export interface NodeTickRef {
  node: string;
  time: number;
}

/** Enough for a day of a large network's anomalous node-ticks; more is cut (and the caller is told). */
export const VERDICT_LIMIT = 500_000;

const ms = (value: number): string => `${Math.round(value)}ms`;

function where(query: VerdictQuery): string {
  const model = query.model === undefined ? '' : ` AND "model" = ${escape.stringLit(query.model)}`;
  return `"network" = ${escape.stringLit(query.network)}${model} AND time >= ${ms(query.from)} AND time < ${ms(query.until)}`;
}

const refs = (rows: Array<Record<string, unknown>>): NodeTickRef[] =>
  rows.map((row) => ({ node: String(row.node), time: Number(row.time) }));

/** Node-ticks judged anomalous (`is_anomaly`) in `anomaly` (the live model) or `shadow` (the candidate). */
export async function anomalousNodeTicks(
  rows: InfluxRows,
  measurement: 'anomaly' | typeof SHADOW_MEASUREMENT,
  query: VerdictQuery,
): Promise<NodeTickRef[]> {
  return refs(
    await rows(
      `SELECT "node", "is_anomaly" FROM "${measurement}" WHERE ${where(query)} AND "is_anomaly" = true LIMIT ${VERDICT_LIMIT}`,
    ),
  );
}

/** Node-ticks a maintenance silence covered (the live points carry `silenced`). */
export async function silencedNodeTicks(rows: InfluxRows, query: VerdictQuery): Promise<NodeTickRef[]> {
  return refs(
    await rows(
      `SELECT "node", "silenced" FROM "anomaly" WHERE ${where(query)} AND "silenced" = true LIMIT ${VERDICT_LIMIT}`,
    ),
  );
}

/** How many node-ticks the model scored in the period (points with a probability). */
export async function scoredNodeTicks(
  rows: InfluxRows,
  measurement: 'anomaly' | typeof SHADOW_MEASUREMENT,
  query: VerdictQuery,
): Promise<number> {
  const result = await rows(`SELECT count("probability") AS "n" FROM "${measurement}" WHERE ${where(query)}`);
  return Number(result[0]?.n ?? 0);
}

/** The first and last tick the version was shadow-scored at within the query's period (undefined: none). */
export async function shadowSpan(
  rows: InfluxRows,
  query: VerdictQuery,
): Promise<{ first: number; last: number } | undefined> {
  const [first] = await rows(`SELECT first("probability") FROM "${SHADOW_MEASUREMENT}" WHERE ${where(query)}`);
  const [last] = await rows(`SELECT last("probability") FROM "${SHADOW_MEASUREMENT}" WHERE ${where(query)}`);
  if (!first || !last) return undefined;
  return { first: Number(first.time), last: Number(last.time) };
}
