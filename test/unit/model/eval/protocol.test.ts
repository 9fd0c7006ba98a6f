import { describe, expect, it } from 'vitest';
import type { Series } from '../../../../sources/series.ts';
import type { SeriesScorer, SeriesScores } from '../../../../model/scoring.ts';
import { falseAlarms } from '../../../../model/eval/false-alarms.ts';
import {
  PAPER_PROTOCOL,
  bestF1Threshold,
  checkPointsIn,
  countOutcomes,
  f1Score,
  linspaceInt,
  protocolLayout,
  runProtocol,
  type InjectedCase,
} from '../../../../model/eval/protocol.ts';
import { makeSeries } from '../../sources/helpers.ts';
import { largestMagnitude, lastSampleScores } from './fake-scores.ts';

/**
 * A fake scorer: a window is anomalous (probability 1) when its LAST sample
 * differs from 0 at any node; the node with the largest |value| ranks first.
 */
class LastSampleScorer implements SeriesScorer {
  readonly name = 'last-sample';
  readonly threshold = 0.5;
  calls: { from: number; to: number }[] = [];
  async scoreSeries(series: Series, from: number, to: number): Promise<SeriesScores> {
    this.calls.push({ from, to });
    return lastSampleScores(series, from, to, (readings) => {
      const v = largestMagnitude(readings);
      return v > 0 ? Math.min(1, 0.5 + v / 100) : 0;
    });
  }
}

describe('layout', () => {
  it('places the paper check points like the authors (5000 samples)', () => {
    const layout = protocolLayout(5000, PAPER_PROTOCOL);
    expect(layout.trainEnd).toBe(3000);
    expect(layout.testStart).toBe(2981);
    expect(layout.checkPoints).toHaveLength(100);
    // Test data has 2019 steps: linspace(40, 1979, 100) → 40, 59, 79, …, 1979.
    expect(layout.checkPoints.slice(0, 3)).toEqual([2981 + 40, 2981 + 59, 2981 + 79]);
    expect(layout.checkPoints[99]).toBe(2981 + 1979);
    // 20-sample margins (plus a window) keep every detection range inside the data.
    expect(layout.checkPoints[99] + 20).toBeLessThanOrEqual(5000);
  });

  it('truncates linspace like numpy int casts', () => {
    expect(linspaceInt(0, 10, 4)).toEqual([0, 3, 6, 10]);
    expect(linspaceInt(40, 1979, 100)[1]).toBe(59);
    expect(() => checkPointsIn(0, 50, PAPER_PROTOCOL)).toThrow(/too short/);
  });
});

describe('counting', () => {
  it('computes precision, recall and F1', () => {
    expect(f1Score(84, 1, 16)).toEqual({
      precision: 84 / 85,
      recall: 0.84,
      f1: (2 * (84 / 85) * 0.84) / (84 / 85 + 0.84),
    });
    expect(f1Score(84, 1, 16).f1).toBeCloseTo(0.9081, 4); // the authors' saved result
    expect(f1Score(0, 0, 5)).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  it('detects only through windows whose last sample lies in [t, t + window)', async () => {
    const window = 5;
    const steps = 60;
    const clean = makeSeries(steps, 3, 2, () => 0);
    const scorer = new LastSampleScorer();
    const checkPoints = [20, 40];
    // Case A (t = 20): the anomaly sits at step 24 = t + window − 1: the last window counted → detected, on node 2.
    // Case B (t = 40): the anomaly sits at step 45 = t + window: just outside → missed.
    // Case C (t = 40): anomaly at step 39, one before t: not counted either → missed.
    const withValueAt = (step: number, node: number): Series => {
      const s = makeSeries(steps, 3, 2, () => 0);
      s.data[(step * 3 + node) * 2 + 1] = 10;
      return s;
    };
    const cases: InjectedCase[] = [
      { checkPoint: 20, node: 2, series: withValueAt(24, 2) },
      { checkPoint: 40, node: 1, series: withValueAt(45, 1) },
      { checkPoint: 40, node: 1, series: withValueAt(39, 1) },
    ];
    const { outcomes, cleanStream } = await runProtocol(scorer, clean, 10, checkPoints, cases, window);
    expect(scorer.calls[0]).toEqual({ from: 10, to: 60 });
    expect(scorer.calls.slice(1)).toEqual([
      { from: 20, to: 25 },
      { from: 40, to: 45 },
      { from: 40, to: 45 },
    ]);
    expect(cleanStream.to - cleanStream.from).toBe(50);
    const counts = countOutcomes(outcomes, scorer.threshold);
    expect(counts).toMatchObject({ tp: 1, fn: 2, tn: 2, fp: 0, localization: 1 });
    expect(counts.recall).toBeCloseTo(1 / 3);
  });

  it('takes the clean window that starts at the check point (last sample t + window − 1)', async () => {
    const clean = makeSeries(60, 2, 1, () => 0);
    clean.data[(24 * 2 + 0) * 1] = 5; // inside the window [20, 25) of check point 20
    clean.data[(45 * 2 + 0) * 1] = 5; // after the window [40, 45) of check point 40
    const { outcomes } = await runProtocol(new LastSampleScorer(), clean, 10, [20, 40], [], 5);
    expect(countOutcomes(outcomes, 0.5)).toMatchObject({ tn: 1, fp: 1, tp: 0, fn: 0, precision: 0 });
  });

  it('counts localization on the first anomalous window', () => {
    const outcomes = {
      clean: [{ checkPoint: 0, probability: 0.1 }],
      injected: [
        {
          checkPoint: 5,
          node: 1,
          probabilities: Float32Array.from([0.2, 0.9, 0.9]),
          topNodes: Int32Array.from([1, 0, 1]),
        },
        { checkPoint: 9, node: 0, probabilities: Float32Array.from([0.8, 0.2]), topNodes: Int32Array.from([0, 1]) },
      ],
    };
    expect(countOutcomes(outcomes, 0.5)).toMatchObject({ tp: 2, localization: 0.5 });
  });

  it('picks the best-F1 threshold among the observed scores', () => {
    const outcomes = {
      clean: [0.5, 0.6, 0.65].map((probability, checkPoint) => ({ checkPoint, probability })),
      injected: [0.7, 0.8, 0.3].map((p, i) => ({
        checkPoint: i,
        node: 0,
        probabilities: Float32Array.from([p]),
        topNodes: Int32Array.from([0]),
      })),
    };
    const best = bestF1Threshold(outcomes);
    // 0.7: TP 2, FP 0, FN 1 → F1 0.8; 0.3 catches all three but flags every clean window → F1 0.667.
    // Every threshold in (0.65, 0.7] gives 0.8: the middle of that gap is kept.
    expect(best.threshold).toBeCloseTo(0.675, 5);
    expect(best.counts).toMatchObject({ tp: 2, fp: 0, fn: 1 });
  });
});

describe('falseAlarms', () => {
  it('counts rises per node per day and flagged windows', () => {
    // 2 nodes, 4 rows, one step per 6 h → 1 day.
    const scores: SeriesScores = {
      from: 0,
      to: 4,
      cluster: Float32Array.from([0.9, 0.9, 0, 0.9]),
      node: Float32Array.from([0.9, 0, 0.9, 0, 0, 0, 0.9, 0.9]),
      reconstruction: new Float32Array(0),
    };
    const alarms = falseAlarms(scores, 2, 0.5, 6 * 3600);
    // Node 0 rises at rows 0 and 3 (2 alarms); node 1 at row 3 (1): 3 alarms / 2 nodes / 1 day.
    expect(alarms.days).toBeCloseTo(1);
    expect(alarms.perNodePerDay).toBeCloseTo(1.5);
    expect(alarms.flaggedWindows).toBeCloseTo(0.75);
  });
});
