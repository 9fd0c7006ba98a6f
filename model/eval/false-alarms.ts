import type { SeriesScores } from '../scoring.ts';

export interface FalseAlarms {
  /** Node alarms (a node's probability rising to the threshold) per node per day of clean data. */
  perNodePerDay: number;
  /** Share of clean windows the scorer flagged at cluster level. */
  flaggedWindows: number;
  /** Days of clean data scored. */
  days: number;
}

/**
 * False alarms over a clean score stream: every rise of a node's probability
 * to or above the threshold is one alarm (a node staying anomalous for many
 * windows raises one alarm, as an alerting system would).
 */
export function falseAlarms(
  scores: SeriesScores,
  nodes: number,
  threshold: number,
  secondsPerStep: number,
): FalseAlarms {
  const rows = scores.to - scores.from;
  let onsets = 0;
  for (let n = 0; n < nodes; n++) {
    let previous = false;
    for (let r = 0; r < rows; r++) {
      const now = scores.node[r * nodes + n] >= threshold;
      if (now && !previous) onsets++;
      previous = now;
    }
  }
  let flagged = 0;
  for (let r = 0; r < rows; r++) if (scores.cluster[r] >= threshold) flagged++;
  const days = (rows * secondsPerStep) / 86_400;
  return { perNodePerDay: days > 0 ? onsets / nodes / days : 0, flaggedWindows: rows > 0 ? flagged / rows : 0, days };
}

/**
 * Which node ranked first in each flagged clean check point (the window
 * ending at `end`, cluster probability ≥ threshold): node id → count. Says
 * whether false positives come from one node (e.g. a real, uninjected fault)
 * or from everywhere.
 */
export function flaggedCleanByNode(
  scores: SeriesScores,
  nodes: readonly string[],
  windowEnds: readonly number[],
  threshold: number,
): Record<string, number> {
  const n = nodes.length;
  const counts: Record<string, number> = {};
  for (const end of windowEnds) {
    const r = end - scores.from;
    if (r < 0 || end >= scores.to || scores.cluster[r] < threshold) continue;
    let top = 0;
    for (let k = 1; k < n; k++) if (scores.node[r * n + k] > scores.node[r * n + top]) top = k;
    counts[nodes[top]] = (counts[nodes[top]] ?? 0) + 1;
  }
  return counts;
}
