/**
 * The drift signal: the share of nodes whose reconstruction error has risen
 * over the days. A model that no longer fits the network reconstructs it
 * worse everywhere, slowly; a fault makes one node worse, suddenly. So each
 * node's recent days are compared with its own earlier days, and retraining
 * is suggested when many nodes rose together.
 */
import type { DailyError } from '../../store/influx-history.ts';
import { median } from '../../common/median.ts';
import { DAY_MS } from '../../common/constants.ts';

export interface DriftOptions {
  /** The last `recentDays` days (by the newest day found) are compared with the days before them. */
  recentDays: number;
  /** A node has risen when its recent mean error exceeds `rise` × the median of its earlier days. */
  rise: number;
  /** Retraining is suggested when at least this share of the compared nodes rose. */
  share: number;
}

/** What `wsn-watch drift` looks at unless told otherwise: two weeks of daily errors, the last 3 days against the 11 before. */
export const DRIFT_DEFAULTS = { days: 14, recentDays: 3, rise: 1.5, share: 0.3 } as const;

export interface NodeDrift {
  node: string;
  /** Median daily error of the earlier days. */
  baseline: number;
  /** Mean daily error of the recent days. */
  recent: number;
  ratio: number;
  risen: boolean;
}

export interface DriftReport {
  /** Nodes with both earlier and recent days, highest ratio first. */
  nodes: NodeDrift[];
  risen: number;
  /** Share of the compared nodes that rose (0 when none could be compared). */
  share: number;
  suggestRetraining: boolean;
}

export function driftReport(daily: readonly DailyError[], options: DriftOptions): DriftReport {
  const newest = Math.max(...daily.map((d) => d.day));
  const recentFrom = newest - (options.recentDays - 1) * DAY_MS;
  const byNode = new Map<string, { earlier: number[]; recent: number[] }>();
  for (const d of daily) {
    const entry = byNode.get(d.node) ?? { earlier: [], recent: [] };
    (d.day >= recentFrom ? entry.recent : entry.earlier).push(d.error);
    byNode.set(d.node, entry);
  }
  const nodes: NodeDrift[] = [];
  for (const [node, { earlier, recent }] of byNode) {
    if (earlier.length === 0 || recent.length === 0) continue;
    const baseline = median(earlier);
    const recentMean = recent.reduce((a, b) => a + b, 0) / recent.length;
    const ratio = baseline > 0 ? recentMean / baseline : recentMean > 0 ? Infinity : 1;
    nodes.push({ node, baseline, recent: recentMean, ratio, risen: ratio > options.rise });
  }
  nodes.sort((a, b) => b.ratio - a.ratio);
  const risen = nodes.filter((n) => n.risen).length;
  const share = nodes.length > 0 ? risen / nodes.length : 0;
  return { nodes, risen, share, suggestRetraining: nodes.length > 0 && share >= options.share };
}
