/**
 * The alert threshold for a false-alert budget, from the clean validation
 * scores of every node (peaks over threshold, as in SPOT: Siffer et al.,
 * "Anomaly Detection in Streams with Extreme Value Theory", KDD 2017).
 *
 * The live detector raises an alert when a node's probability crosses the
 * threshold and re-arms only after the node has stayed low for a while, so
 * what counts is how often a healthy node's score makes an *excursion*
 * above the threshold, not how many node-ticks lie above it. Excursions are
 * found above a low level u (a high quantile of all clean node scores); their
 * peaks, in logits, have an exponential tail above u (the generalised Pareto
 * distribution with shape 0), so the rate of excursions above a level z is
 * rate(u) · exp(−(z − u) / β), with β the mean excess of the peaks. Solving
 * for the budget gives a threshold beyond the highest clean score the
 * validation happened to hold, which a short validation cannot show directly.
 */
import { DEFAULT_ALERT_THRESHOLD } from '../../common/thresholds.ts';

export interface FalseAlertCalibration {
  /** Probability threshold meeting the budget (never below the level u). */
  threshold: number;
  /** The level u above which excursions are counted (probability). */
  level: number;
  /** Excursions above u in the clean validation scores. */
  excursions: number;
  /** Their rate per node-tick. */
  ratePerNodeTick: number;
  /** Mean excess of their peaks over u, in logits (the exponential tail's scale). */
  scale: number;
  /** The budget it was solved for, alerts per node-tick. */
  budgetPerNodeTick: number;
}

export interface FalseAlertOptions {
  /** Alerts a healthy node may raise per tick (e.g. 0.05 per node-day at 31 s ticks: 0.05 / 2787). */
  budgetPerNodeTick: number;
  /** Quantile of all clean node scores that sets the level u. Default 0.98 (as SPOT's initial threshold). */
  levelQuantile?: number;
  /** Ticks a node must stay below u before another excursion starts (the tracker's re-arm time). Default 10. */
  rearmTicks?: number;
}

const EPS = 1e-7;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Peaks (logits) of every excursion of each node's scores above `level`; scores are steps × nodes, time-major. */
export function excursionPeaks(scores: ArrayLike<number>, nodes: number, level: number, rearmTicks: number): number[] {
  const steps = Math.floor(scores.length / nodes);
  const peaks: number[] = [];
  for (let node = 0; node < nodes; node++) {
    let peak = -Infinity;
    let below = 0;
    for (let t = 0; t < steps; t++) {
      const p = scores[t * nodes + node];
      if (p >= level) {
        peak = Math.max(peak, logit(p));
        below = 0;
      } else if (peak > -Infinity && ++below >= rearmTicks) {
        peaks.push(peak);
        peak = -Infinity;
      }
    }
    if (peak > -Infinity) peaks.push(peak);
  }
  return peaks;
}

/**
 * The lowest threshold at which the clean validation scores (steps × nodes,
 * time-major probabilities) are expected to give at most the budget of
 * alerts per node-tick, by the exponential tail of their excursion peaks.
 */
export function falseAlertThreshold(
  scores: ArrayLike<number>,
  nodes: number,
  options: FalseAlertOptions,
): FalseAlertCalibration {
  if (!(options.budgetPerNodeTick > 0))
    throw new RangeError(`falseAlertThreshold: budget must be > 0, got ${options.budgetPerNodeTick}`);
  const sorted = Float64Array.from(scores).sort();
  const level = sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor((options.levelQuantile ?? 0.98) * sorted.length))]
    : DEFAULT_ALERT_THRESHOLD;
  const peaks = excursionPeaks(scores, nodes, level, options.rearmTicks ?? 10);
  const nodeTicks = Math.max(1, sorted.length);
  const rate = peaks.length / nodeTicks;
  const u = logit(level);
  const scale = peaks.length ? peaks.reduce((sum, y) => sum + (y - u), 0) / peaks.length : 0;
  const z = rate > options.budgetPerNodeTick && scale > 0 ? u + scale * Math.log(rate / options.budgetPerNodeTick) : u;
  return {
    threshold: Math.min(1 - 1e-6, sigmoid(z)),
    level,
    excursions: peaks.length,
    ratePerNodeTick: rate,
    scale,
    budgetPerNodeTick: options.budgetPerNodeTick,
  };
}
