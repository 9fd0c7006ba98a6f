import { describe, expect, it } from 'vitest';
import { createRng } from '../../../../common/random.ts';
import { NeighbourMedianScorer, nearestNeighbours } from '../../../../model/baselines/neighbour-median.ts';
import { RollingZScoreScorer } from '../../../../model/baselines/rolling-zscore.ts';
import { injectAnomaly } from '../../../../sources/inject.ts';
import { computeStats } from '../../../../sources/normalize.ts';
import { makeSeries } from '../../sources/helpers.ts';

// Six nodes sharing a daily-like wave plus small independent noise (normalized-ish units).
const rng = createRng(5);
const noise = Array.from({ length: 400 * 6 * 2 }, () => 0.05 * rng.normal());
const clean = makeSeries(400, 6, 2, (t, n, m) => Math.sin(t / 30 + m) + noise[(t * 6 + n) * 2 + m]);
const stats = computeStats(clean, { to: 200 });
const surged = injectAnomaly(clean, { kind: 'surge', node: 3, modality: 1, start: 300, length: 5 }, stats);
const line = new Map(Array.from({ length: 6 }, (_, i) => [`n${i}`, { x: i, y: 0 }]));
const neighbours = nearestNeighbours(line, 3);

function flagged(scores: { cluster: Float32Array }, threshold: number): number {
  return scores.cluster.filter((p) => p >= threshold).length;
}

describe('rolling z-score baseline', () => {
  const scorer = new RollingZScoreScorer({ history: 20, rawThreshold: 6 });

  it('flags an obvious surge on the right node', async () => {
    const scores = await scorer.scoreSeries(surged, 290, 320);
    expect(scores.cluster[300 - 290]).toBeGreaterThanOrEqual(scorer.threshold);
    const top = Array.from(scores.node.slice(10 * 6, 11 * 6)).indexOf(Math.max(...scores.node.slice(10 * 6, 11 * 6)));
    expect(top).toBe(3);
  });

  it('stays quiet on clean data', async () => {
    const scores = await scorer.scoreSeries(clean, 200, 400);
    expect(flagged(scores, scorer.threshold)).toBe(0);
  });

  it('maps the raw threshold to probability 0.5', async () => {
    const raw = scorer.rawScores(surged, 300, 301);
    const scores = await scorer.scoreSeries(surged, 300, 301);
    expect(scores.node[3]).toBeCloseTo(raw[3] / (raw[3] + 6), 5);
  });
});

describe('neighbour-median baseline', () => {
  const scorer = new NeighbourMedianScorer({ neighbours, rawThreshold: 6 }).fit(clean, 0, 200);

  it('uses the nearest nodes by position', () => {
    expect(neighbours.get('n0')).toEqual(['n1', 'n2', 'n3']);
    expect(neighbours.get('n3')).toEqual(['n2', 'n4', 'n1']);
  });

  it('flags an obvious surge on the right node', async () => {
    const scores = await scorer.scoreSeries(surged, 290, 320);
    expect(scores.cluster[10]).toBeGreaterThanOrEqual(scorer.threshold);
    const row = Array.from(scores.node.slice(10 * 6, 11 * 6));
    expect(row.indexOf(Math.max(...row))).toBe(3);
  });

  it('stays quiet on clean data, including a shift all nodes share', async () => {
    const shifted = makeSeries(400, 6, 2, (t, n, m) => clean.data[(t * 6 + n) * 2 + m] + (t >= 300 ? 3 : 0));
    expect(flagged(await scorer.scoreSeries(clean, 200, 400), scorer.threshold)).toBe(0);
    expect(flagged(await scorer.scoreSeries(shifted, 200, 400), scorer.threshold)).toBe(0);
  });

  it('refuses nodes it was not fitted on', async () => {
    const other = makeSeries(50, 1, 2, () => 0);
    other.nodes = ['zz'];
    await expect(scorer.scoreSeries(other, 10, 20)).rejects.toThrow(/zz/);
  });
});
