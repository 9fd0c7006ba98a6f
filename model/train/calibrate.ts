/**
 * Threshold calibration on validation scores, for the paper's kind of
 * protocol: as many clean check points as injected anomalies, an anomaly
 * detected when any window covering it scores at or above the threshold.
 */
import { DEFAULT_ALERT_THRESHOLD } from '../../common/thresholds.ts';
export interface CalibrationResult {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
}

/**
 * The threshold maximising F1 when clean and injected cases are equally
 * many: precision = recall / (recall + false-positive rate). `clean` holds
 * the cluster probability of clean windows, `injected` the highest
 * probability over the windows covering each injected anomaly.
 *
 * F1 is the same for every threshold in the gap between the lowest score it
 * flags and the highest it does not; the threshold is the middle of that gap
 * (`midpointOfGap`), not its upper edge, which would sit right on the
 * weakest detected anomaly of the validation data and miss a slightly
 * weaker one in the field. When validation separates clean from injected
 * completely, this is the middle between the two.
 */
export function calibrateThreshold(clean: ArrayLike<number>, injected: ArrayLike<number>): CalibrationResult {
  const scores = [...Array.from(injected), ...Array.from(clean)];
  const candidates = [
    ...new Set([...Array.from(injected), ...Array.from(clean).map((v) => Math.min(1, v + 1e-6))]),
  ].sort((a, b) => b - a);
  let best: CalibrationResult = { threshold: DEFAULT_ALERT_THRESHOLD, precision: 0, recall: 0, f1: 0 };
  for (const threshold of candidates) {
    const result = evaluateThreshold(clean, injected, threshold);
    if (result.f1 > best.f1 + 1e-12) best = result;
  }
  if (best.f1 === 0) return best;
  return evaluateThreshold(clean, injected, midpointOfGap(scores, best.threshold));
}

/**
 * The middle between `threshold` (a value that decides as `score >= threshold`)
 * and the highest score below it: every threshold in that gap flags the same
 * scores. `threshold` itself when no score lies below it.
 */
export function midpointOfGap(scores: Iterable<number>, threshold: number): number {
  let below = -Infinity;
  for (const score of scores) if (score < threshold && score > below) below = score;
  return Number.isFinite(below) ? (below + threshold) / 2 : threshold;
}

export function evaluateThreshold(
  clean: ArrayLike<number>,
  injected: ArrayLike<number>,
  threshold: number,
): CalibrationResult {
  let falsePositives = 0;
  for (let i = 0; i < clean.length; i++) if (clean[i] >= threshold) falsePositives++;
  let truePositives = 0;
  for (let i = 0; i < injected.length; i++) if (injected[i] >= threshold) truePositives++;
  const recall = injected.length ? truePositives / injected.length : 0;
  const fpr = clean.length ? falsePositives / clean.length : 0;
  const precision = recall + fpr > 0 ? recall / (recall + fpr) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { threshold, precision, recall, f1 };
}
