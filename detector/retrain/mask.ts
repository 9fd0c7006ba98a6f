/**
 * Which stored node-ticks a retraining may learn from. The model learns what
 * normal looks like, so everything that was not normal is left out, as if the
 * node had not reported then (the history alignment fills it the way it fills
 * any gap, docs/history.md):
 *  - alerted node-ticks (`is_anomaly`), with `marginTicks` either side: a
 *    fault starts before its probability crosses the threshold and fades
 *    after it falls back;
 *  - silenced node-ticks (maintenance), with the same margin;
 *  - alerts an operator confirmed (feedback `true`), over the alert's whole
 *    span plus the margin.
 * Alerted node-ticks inside an alert marked a false alarm are kept: they were
 * normal, and learning them is what makes the repeats stop.
 */
import type { HistoryReading } from '../../sources/history.ts';
import type { MarkedEpisode, StoredNodeTick } from '../../store/influx-history.ts';

export interface MaskOptions {
  tickMs: number;
  /** Ticks left out before and after each alerted or silenced node-tick and each confirmed alert. */
  marginTicks: number;
}

/** Node-ticks read and what happened to them; each left-out node-tick is counted once, under the first reason that applies (silenced, confirmed, alerted). */
export interface MaskCounts {
  nodeTicks: number;
  kept: number;
  silenced: number;
  confirmed: number;
  alerted: number;
  /** Alerted node-ticks kept as clean data because their alert was marked a false alarm. */
  falseAlarmsKept: number;
}

type Reason = 'silenced' | 'confirmed' | 'alerted';

/** Ticks (tick numbers) to leave out of one node, by reason. */
interface NodeExclusions {
  silenced: Set<number>;
  confirmed: Set<number>;
  alerted: Set<number>;
}

const within = (episodes: readonly MarkedEpisode[], time: number): boolean =>
  episodes.some((episode) => time >= episode.from && time <= episode.to);

function addRange(set: Set<number>, from: number, to: number): void {
  for (let tick = from; tick <= to; tick++) set.add(tick);
}

/** The excluded ticks of one node from its stored node-ticks and its marked alerts. */
function exclusionsOf(
  ticks: readonly StoredNodeTick[],
  marks: readonly MarkedEpisode[],
  { tickMs, marginTicks }: MaskOptions,
): NodeExclusions {
  const tickOf = (time: number): number => Math.floor(time / tickMs);
  const falseAlarms = marks.filter((mark) => mark.verdict === 'false');
  const exclusions: NodeExclusions = { silenced: new Set(), confirmed: new Set(), alerted: new Set() };
  for (const tick of ticks) {
    const k = tickOf(tick.time);
    if (tick.silenced) addRange(exclusions.silenced, k - marginTicks, k + marginTicks);
    if (tick.alerted && !within(falseAlarms, tick.time)) addRange(exclusions.alerted, k - marginTicks, k + marginTicks);
  }
  const first = ticks.length > 0 ? tickOf(ticks[0].time) : 0;
  const last = ticks.length > 0 ? tickOf(ticks[ticks.length - 1].time) : 0;
  for (const mark of marks.filter((m) => m.verdict === 'true')) {
    // An alert still firing when marked runs to the end of the stored ticks; one that began long before the period, from its start.
    const end = Number.isFinite(mark.to) ? tickOf(mark.to) : last;
    const start = Math.max(tickOf(mark.from), first - marginTicks);
    addRange(exclusions.confirmed, start - marginTicks, Math.min(end, last) + marginTicks);
  }
  return exclusions;
}

function reasonOf(exclusions: NodeExclusions, tick: number): Reason | undefined {
  if (exclusions.silenced.has(tick)) return 'silenced';
  if (exclusions.confirmed.has(tick)) return 'confirmed';
  if (exclusions.alerted.has(tick)) return 'alerted';
  return undefined;
}

/** The readings a retraining learns from (the clean node-ticks, as history readings), and what was left out. */
export function cleanReadings(
  stored: readonly StoredNodeTick[],
  marks: readonly MarkedEpisode[],
  options: MaskOptions,
): { readings: HistoryReading[]; counts: MaskCounts } {
  const byNode = new Map<string, StoredNodeTick[]>();
  for (const tick of stored) {
    const list = byNode.get(tick.node) ?? [];
    list.push(tick);
    byNode.set(tick.node, list);
  }
  const counts: MaskCounts = { nodeTicks: 0, kept: 0, silenced: 0, confirmed: 0, alerted: 0, falseAlarmsKept: 0 };
  const readings: HistoryReading[] = [];
  for (const [node, ticks] of byNode) {
    ticks.sort((a, b) => a.time - b.time);
    const nodeMarks = marks.filter((mark) => mark.node === node);
    const exclusions = exclusionsOf(ticks, nodeMarks, options);
    for (const tick of ticks) {
      counts.nodeTicks++;
      const reason = reasonOf(exclusions, Math.floor(tick.time / options.tickMs));
      if (reason) {
        counts[reason]++;
        continue;
      }
      counts.kept++;
      if (tick.alerted) counts.falseAlarmsKept++;
      if (Object.keys(tick.values).length > 0) readings.push({ node, ts: tick.time, values: tick.values });
    }
  }
  return { readings, counts };
}
