/**
 * The false-alert half of `wsn-watch model compare`: the live model's and a
 * shadowing (or formerly shadowing) candidate's alert episodes over the
 * period both scored, read from InfluxDB (gate.ts counts them).
 */
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { markedEpisodes, type InfluxRows } from '../../store/influx-history.ts';
import {
  anomalousNodeTicks,
  scoredNodeTicks,
  silencedNodeTicks,
  SHADOW_MEASUREMENT,
  shadowSpan,
  VERDICT_LIMIT,
  type VerdictQuery,
} from '../../store/shadow.ts';
import { alertEpisodes, falseAlertTally, type EpisodeRules, type FalseAlertTally } from './gate.ts';
import { shadowRunOf, type PromotedModel } from './pointer.ts';

export interface ComparedPeriod {
  network: string;
  from: number;
  until: number;
}

/**
 * The period asked for: the `sinceMs` before `until` (event time: now for a
 * live network). Only versions that shadowed can be compared.
 */
export function comparedPeriod(
  record: PromotedModel | undefined,
  network: string,
  version: string,
  sinceMs: number,
  until: number,
): ComparedPeriod {
  const run = shadowRunOf(record, version);
  if (!record || !run)
    throw new UserError(
      'MODEL_NEVER_SHADOWED',
      `model version ${version} has not been shadow-scored in network ${network}: there is nothing to compare`,
      `start its shadow with \`wsn-watch model shadow ${version}\` and compare after a day`,
    );
  return { network, from: until - sinceMs, until };
}

/**
 * The part of the period the candidate was shadow-scored in (its first to
 * its last stored tick): both models are compared over the same ticks.
 * Undefined when it scored none there.
 */
export async function shadowedPart(
  rows: InfluxRows,
  period: ComparedPeriod,
  version: string,
  tickMs: number,
): Promise<ComparedPeriod | undefined> {
  const span = await shadowSpan(rows, { ...period, model: version });
  return span && { network: period.network, from: span.first, until: span.last + tickMs };
}

export async function falseAlertsOf(
  config: Config,
  rows: InfluxRows,
  period: ComparedPeriod,
  versions: { live: string; shadow: string },
  onNote: (message: string) => void,
): Promise<{ live: FalseAlertTally; shadow: FalseAlertTally }> {
  const query: VerdictQuery = { network: period.network, from: period.from, until: period.until };
  const rules: EpisodeRules = {
    tickMs: config.ingest.tickMs,
    alertAfterTicks: config.detector.alertAfterTicks,
    resolveAfterTicks: config.detector.resolveAfterTicks,
  };
  const shadowQuery = { ...query, model: versions.shadow };
  const [liveTicks, shadowTicks, silencedTicks, marks, liveScored, shadowScored] = await Promise.all([
    anomalousNodeTicks(rows, 'anomaly', query),
    anomalousNodeTicks(rows, SHADOW_MEASUREMENT, shadowQuery),
    silencedNodeTicks(rows, query),
    markedEpisodes(rows, period.network, query),
    scoredNodeTicks(rows, 'anomaly', query),
    scoredNodeTicks(rows, SHADOW_MEASUREMENT, shadowQuery),
  ]);
  if ([liveTicks, shadowTicks, silencedTicks].some((list) => list.length >= VERDICT_LIMIT))
    onNote(`more than ${VERDICT_LIMIT} anomalous node-ticks in the period: counted the first ${VERDICT_LIMIT}`);
  const silenced = new Set(silencedTicks.map(({ node, time }) => `${node}@${time}`));
  const tally = (version: string, ticks: typeof liveTicks, scored: number): FalseAlertTally =>
    falseAlertTally(version, alertEpisodes(ticks, silenced, rules), marks, scored, rules.tickMs);
  return {
    live: tally(versions.live, liveTicks, liveScored),
    shadow: tally(versions.shadow, shadowTicks, shadowScored),
  };
}
