/**
 * The promotion gate: a candidate that was shadow-scored beside the live
 * model is promoted only when, over the compared period, its false alerts
 * per node-day are lower than the live model's and its live-path evaluation
 * (recall and F1 on injected faults) is not worse. `model promote --force`
 * overrides it; a version that never shadowed is not gated.
 *
 * Alert episodes are counted the same way for both models from their stored
 * verdicts: a run of `is_anomaly` node-ticks at least `alertAfterTicks` long
 * (gaps of up to `resolveAfterTicks` ticks joined), as the alert tracker opens
 * one. Node-ticks under a maintenance silence count for neither. An episode
 * an operator confirmed (feedback `--true` on an overlapping alert of that
 * node) is a true alert; every other one is counted false.
 */
import type { MarkedEpisode } from '../../store/influx-history.ts';
import type { NodeTickRef } from '../../store/shadow.ts';
import { DAY_MS } from '../../common/constants.ts';

export interface EpisodeRules {
  tickMs: number;
  alertAfterTicks: number;
  resolveAfterTicks: number;
}

export interface Episode {
  node: string;
  from: number;
  to: number;
}

/** The alert episodes in a model's anomalous node-ticks (silenced ones left out). */
export function alertEpisodes(
  anomalous: readonly NodeTickRef[],
  silenced: ReadonlySet<string>,
  rules: EpisodeRules,
): Episode[] {
  const byNode = new Map<string, number[]>();
  for (const { node, time } of anomalous) {
    if (silenced.has(`${node}@${time}`)) continue;
    let times = byNode.get(node);
    if (!times) byNode.set(node, (times = []));
    times.push(time);
  }
  const episodes: Episode[] = [];
  const joinWithin = (rules.resolveAfterTicks + 1) * rules.tickMs;
  for (const [node, times] of byNode) {
    times.sort((a, b) => a - b);
    let start = 0;
    for (let i = 1; i <= times.length; i++) {
      if (i < times.length && times[i] - times[i - 1] <= joinWithin) continue;
      if (i - start >= rules.alertAfterTicks) episodes.push({ node, from: times[start], to: times[i - 1] });
      start = i;
    }
  }
  return episodes.sort((a, b) => a.from - b.from || a.node.localeCompare(b.node));
}

export interface FalseAlertTally {
  version: string;
  episodes: number;
  /** Episodes an operator confirmed as real. */
  confirmed: number;
  falseAlerts: number;
  nodeDays: number;
  /** falseAlerts / nodeDays; null when the model scored nothing in the period. */
  perNodeDay: number | null;
}

export function falseAlertTally(
  version: string,
  episodes: readonly Episode[],
  marks: readonly MarkedEpisode[],
  scoredNodeTicks: number,
  tickMs: number,
): FalseAlertTally {
  const confirmed = episodes.filter((episode) =>
    marks.some(
      (mark) =>
        mark.verdict === 'true' && mark.node === episode.node && mark.from <= episode.to && mark.to >= episode.from,
    ),
  ).length;
  const nodeDays = (scoredNodeTicks * tickMs) / DAY_MS;
  const falseAlerts = episodes.length - confirmed;
  return {
    version,
    episodes: episodes.length,
    confirmed,
    falseAlerts,
    nodeDays,
    perNodeDay: nodeDays > 0 ? falseAlerts / nodeDays : null,
  };
}

/** One model's live-path evaluation on the period's history with injected faults. */
export interface EvaluationScore {
  version: string;
  events: number;
  recall: number;
  f1: number;
}

export interface Comparison {
  network: string;
  from: number;
  until: number;
  live: FalseAlertTally;
  shadow: FalseAlertTally;
  /** Both models' evaluation, or why there is none. */
  evaluation: { live: EvaluationScore; shadow: EvaluationScore } | { unavailable: string };
}

export interface GateVerdict {
  pass: boolean;
  /** Why it fails (empty when it passes). */
  reasons: string[];
}

/** Figures are compared as printed (3 decimals), so a difference nobody can see does not decide. */
const r3 = (value: number): number => Math.round(value * 1000) / 1000;

export function gateVerdict(comparison: Comparison): GateVerdict {
  const { live, shadow, evaluation } = comparison;
  const reasons: string[] = [];
  if (shadow.perNodeDay === null) reasons.push(`${shadow.version} scored no node-tick in the period`);
  else if (live.perNodeDay !== null) {
    const lower = r3(shadow.perNodeDay) < r3(live.perNodeDay);
    // Neither raised a false alert: nothing to be lower than, and nothing against the candidate.
    const bothClean = shadow.falseAlerts === 0 && live.falseAlerts === 0;
    if (!lower && !bothClean)
      reasons.push(
        `false alerts per node-day ${fixed(shadow.perNodeDay)} (${shadow.version}) are not lower than ${fixed(live.perNodeDay)} (${live.version})`,
      );
  }
  if ('unavailable' in evaluation) reasons.push(`no live-path evaluation: ${evaluation.unavailable}`);
  else {
    const { live: a, shadow: b } = evaluation;
    if (r3(b.recall) < r3(a.recall))
      reasons.push(`event recall ${fixed(b.recall)} (${b.version}) is worse than ${fixed(a.recall)} (${a.version})`);
    if (r3(b.f1) < r3(a.f1))
      reasons.push(`event F1 ${fixed(b.f1)} (${b.version}) is worse than ${fixed(a.f1)} (${a.version})`);
  }
  return { pass: reasons.length === 0, reasons };
}

const fixed = (value: number | null): string => (value === null ? '-' : value.toFixed(3));

/** What `model compare` prints: the two models side by side, then the gate's verdict. */
export function formatComparison(comparison: Comparison, verdict: GateVerdict): string {
  const { live, shadow, evaluation } = comparison;
  const rows: string[][] = [
    ['', `${live.version} (live)`, `${shadow.version} (shadow)`],
    ['alert episodes', String(live.episodes), String(shadow.episodes)],
    ['confirmed by operators', String(live.confirmed), String(shadow.confirmed)],
    ['false alerts', String(live.falseAlerts), String(shadow.falseAlerts)],
    ['node-days', live.nodeDays.toFixed(2), shadow.nodeDays.toFixed(2)],
    ['false alerts per node-day', fixed(live.perNodeDay), fixed(shadow.perNodeDay)],
  ];
  if (!('unavailable' in evaluation))
    rows.push(
      ['injected faults', String(evaluation.live.events), String(evaluation.shadow.events)],
      ['event recall', fixed(evaluation.live.recall), fixed(evaluation.shadow.recall)],
      ['event F1', fixed(evaluation.live.f1), fixed(evaluation.shadow.f1)],
    );
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i].length)));
  const table = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
  const head = `network ${comparison.network}, ${iso(comparison.from)} .. ${iso(comparison.until)}`;
  const lines = [head, ...table];
  if ('unavailable' in evaluation) lines.push(`live-path evaluation: none (${evaluation.unavailable})`);
  lines.push(
    verdict.pass ? `gate: passes (${shadow.version} may be promoted)` : `gate: fails: ${verdict.reasons.join('; ')}`,
  );
  return lines.join('\n');
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
