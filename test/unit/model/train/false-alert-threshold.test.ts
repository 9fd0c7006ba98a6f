import { describe, expect, it } from 'vitest';
import { excursionPeaks, falseAlertThreshold } from '../../../../model/train/false-alert-threshold.ts';
import { createRng } from '../../../../common/random.ts';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Clean scores of `nodes` nodes: logits of independent noise, so excursions are rare and short. */
function cleanScores(nodes: number, steps: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(nodes * steps);
  for (let i = 0; i < out.length; i++) out[i] = sigmoid(-4 + rng.normal());
  return out;
}

/** Alert onsets of a tracker that fires at p ≥ threshold and re-arms after `rearm` ticks below it. */
function onsets(scores: Float32Array, nodes: number, threshold: number, rearm = 10): number {
  return excursionPeaks(scores, nodes, threshold, rearm).length;
}

describe('excursionPeaks', () => {
  it('counts one excursion per stretch above the level, split only after the re-arm ticks below it', () => {
    // One node: above, 2 below (not re-armed with 3), above again, 3 below (re-armed), above.
    const scores = Float32Array.from([0.9, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.95, 0.1]);
    const peaks = excursionPeaks(scores, 1, 0.5, 3);
    expect(peaks).toHaveLength(2);
    expect(sigmoid(peaks[0])).toBeCloseTo(0.9, 5);
    expect(sigmoid(peaks[1])).toBeCloseTo(0.95, 5);
  });

  it('keeps nodes apart (time-major layout)', () => {
    // Two nodes, node 0 always high, node 1 always low.
    const scores = Float32Array.from([0.9, 0.1, 0.9, 0.1, 0.9, 0.1]);
    expect(excursionPeaks(scores, 2, 0.5, 1)).toHaveLength(1);
  });
});

describe('falseAlertThreshold', () => {
  it('sets a threshold whose false-alert rate on fresh clean data is near the budget, above the clean scores seen', () => {
    const nodes = 20;
    const validation = cleanScores(nodes, 3_000, 1);
    const budget = 1e-4;
    const calibration = falseAlertThreshold(validation, nodes, { budgetPerNodeTick: budget });
    expect(calibration.excursions).toBeGreaterThan(50);
    expect(calibration.threshold).toBeGreaterThan(calibration.level);
    // Far more clean data than the validation: the observed rate is at most about the budget (Gaussian logits
    // have a lighter tail than the exponential fit, so it errs on the side of fewer alerts), yet not far below it.
    const fresh = cleanScores(nodes, 100_000, 2);
    const rate = onsets(fresh, nodes, calibration.threshold) / (nodes * 100_000);
    expect(rate).toBeLessThan(1.5 * budget);
    expect(rate).toBeGreaterThan(budget / 10);
    // The F1-style alternative — the highest clean validation score — would alert far more often.
    const lowerRate = onsets(fresh, nodes, calibration.level) / (nodes * 100_000);
    expect(lowerRate).toBeGreaterThan(10 * budget);
  });

  it('a smaller budget gives a higher threshold', () => {
    const scores = cleanScores(10, 5_000, 3);
    const loose = falseAlertThreshold(scores, 10, { budgetPerNodeTick: 1e-3 });
    const strict = falseAlertThreshold(scores, 10, { budgetPerNodeTick: 1e-5 });
    expect(strict.threshold).toBeGreaterThan(loose.threshold);
  });

  it('refuses a budget that is not positive', () => {
    expect(() => falseAlertThreshold([0.1, 0.2], 1, { budgetPerNodeTick: 0 })).toThrow(/budget/);
  });
});
