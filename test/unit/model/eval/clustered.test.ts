import { describe, expect, it } from 'vitest';
import type { Series } from '../../../../sources/series.ts';
import type { SeriesScorer, SeriesScores } from '../../../../model/scoring.ts';
import { ClusteredScorer, rescale, selectNodes } from '../../../../model/eval/clustered.ts';
import { makeSeries } from '../../sources/helpers.ts';
import { lastSampleScores } from './fake-scores.ts';

/** Scores each node by its first modality's value at the window end; its own threshold. */
class ValueScorer implements SeriesScorer {
  readonly name = 'value';
  constructor(readonly threshold: number) {}
  async scoreSeries(series: Series, from: number, to: number): Promise<SeriesScores> {
    return lastSampleScores(series, from, to, (readings) => readings[0]);
  }
}

describe('clustered scorer', () => {
  it('selects node subsets', () => {
    const s = makeSeries(3, 4, 2, (t, n, m) => t * 100 + n * 10 + m);
    const sub = selectNodes(s, [3, 1]);
    expect(sub.nodes).toEqual(['n3', 'n1']);
    expect(Array.from(sub.data.slice(0, 4))).toEqual([30, 31, 10, 11]);
    expect(sub.data[(2 * 2 + 1) * 2]).toBe(210);
  });

  it('rescales so each threshold maps to 0.5, monotonically', () => {
    expect(rescale(0.2, 0.2)).toBeCloseTo(0.5);
    expect(rescale(0.1, 0.2)).toBeCloseTo(0.25);
    expect(rescale(0.6, 0.2)).toBeCloseTo(0.75);
    expect(rescale(1, 0.2)).toBeCloseTo(1);
  });

  it('flags a window when any cluster passes its own threshold, and maps node scores back', async () => {
    // Node values at step 0: n0 0.3, n1 0.1, n2 0.6, n3 0.5. Cluster A = {n0, n1}, threshold 0.25; cluster B = {n2, n3}, threshold 0.7.
    const values = [0.3, 0.1, 0.6, 0.5];
    const s = makeSeries(1, 4, 1, (_, n) => values[n]);
    const scorer = new ClusteredScorer('c', [
      { indices: [0, 1], scorer: new ValueScorer(0.25) },
      { indices: [2, 3], scorer: new ValueScorer(0.7) },
    ]);
    const scores = await scorer.scoreSeries(s, 0, 1);
    expect(scores.cluster[0]).toBeGreaterThanOrEqual(0.5); // cluster A passes (0.3 ≥ 0.25)
    expect(scores.node[0]).toBeGreaterThanOrEqual(0.5);
    expect(scores.node[2]).toBeLessThan(0.5); // 0.6 < 0.7 in cluster B
    expect(scores.node[2]).toBeCloseTo(rescale(0.6, 0.7), 5);
  });
});
