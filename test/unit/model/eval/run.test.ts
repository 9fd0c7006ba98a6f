import { describe, expect, it } from 'vitest';
import { createRng } from '../../../../common/random.ts';
import type { Series } from '../../../../sources/series.ts';
import type { SeriesScorer, SeriesScores } from '../../../../model/scoring.ts';
import { runEvaluation, type ModelTrainer } from '../../../../model/eval/run.ts';
import { makeSeries } from '../../sources/helpers.ts';
import { largestMagnitude, lastSampleScores } from './fake-scores.ts';

const steps = 600;
const nodes = 6;
const rng = createRng(9);
const noise = Array.from({ length: steps * nodes * 2 }, () => 0.02 * rng.normal());
// Raw units: a slow wave around 20 with a little noise per node.
const raw = makeSeries(
  steps,
  nodes,
  2,
  (t, n, m) => 20 + 5 * m + Math.sin(t / 40 + n / 10) + noise[(t * nodes + n) * 2 + m],
);
const positions = new Map(raw.nodes.map((id, i) => [id, { x: i % 3, y: Math.floor(i / 3) }]));
const protocol = { trainFraction: 0.6, window: 10, checkPoints: 12, margin: 5, injectionLength: 3 };

/**
 * A fake model: scores 1 when any |z| in a window's last sample exceeds 3, else 0; records what it
 * was trained and scored on. Its own threshold (1.5, as if calibrated badly on validation) flags nothing.
 */
class ThresholdScorer implements SeriesScorer {
  readonly name = 'fake';
  readonly threshold = 1.5;
  scored: Series[] = [];
  async scoreSeries(series: Series, from: number, to: number): Promise<SeriesScores> {
    this.scored.push(series);
    return lastSampleScores(series, from, to, (readings) => (largestMagnitude(readings) > 3 ? 1 : 0));
  }
}

describe('runEvaluation', () => {
  it('gives every scorer of a seed the same injections, trains on training steps only, counts every check point', async () => {
    const trained: { steps: number; nodes: number; seed: number }[] = [];
    const scorers: ThresholdScorer[] = [];
    const model: ModelTrainer = async (train, graph, seed, stats) => {
      trained.push({ steps: train.steps, nodes: train.nodes.length, seed });
      expect(graph.nodes).toEqual(train.nodes);
      expect(stats.nodes).toEqual(train.nodes);
      const scorer = new ThresholdScorer();
      scorers.push(scorer);
      return scorer;
    };
    const result = await runEvaluation({
      raw,
      positions,
      secondsPerStep: 86.4,
      seeds: [1, 2],
      protocol,
      model,
      clusters: 2,
      neighbours: 2,
      injectionRanges: 'training',
    });

    // Per seed: two baselines, the model, the clustered model, each model also at its validation threshold.
    const models = [
      'glsl-model',
      'glsl-model (validation threshold)',
      'glsl-model-2-clusters',
      'glsl-model-2-clusters (validation threshold)',
    ];
    expect(result.runs.map((r) => `${r.seed}:${r.scorer}`)).toEqual(
      [1, 2].flatMap((seed) => ['rolling-zscore', 'neighbour-median', ...models].map((name) => `${seed}:${name}`)),
    );
    for (const run of result.runs) {
      const c = run.counts;
      expect(c.tp + c.fn).toBe(12);
      expect(c.tn + c.fp).toBe(12);
    }
    // Models see only the 360 training steps; the clustered variant trains one model per cluster.
    expect(trained.every((t) => t.steps === 360)).toBe(true);
    const seed1 = trained.filter((t) => t.seed === 1).map((t) => t.nodes);
    expect(seed1).toHaveLength(3);
    expect(seed1[0]).toBe(6);
    expect(seed1[1] + seed1[2]).toBe(6);
    expect(result.clusterSizes?.reduce((a, b) => a + b)).toBe(6);

    // The single model and a cluster's model of seed 1 scored the same injected series (first clean, then 12 cases),
    // after the same on the training range for their threshold (the clustered variant as a whole).
    const single = scorers[0].scored;
    expect(single).toHaveLength(26);
    expect(single[0].steps).toBe(360);
    expect(single[13].steps).toBe(steps);
    const member = scorers[1].scored.slice(13);
    expect(member).toHaveLength(13);
    for (let c = 0; c < 13; c++) {
      const ids = member[c].nodes;
      for (let t = 0; t < steps; t += 7) {
        ids.forEach((id, k) => {
          const n = single[c].nodes.indexOf(id);
          expect(member[c].data[(t * ids.length + k) * 2]).toBe(single[13 + c].data[(t * nodes + n) * 2]);
        });
      }
    }
    // Seeds differ in their injections.
    expect(result.kinds[1]).not.toEqual(undefined);
    expect(Object.values(result.kinds[1]).reduce((a, b) => a + b)).toBe(12);
    // Obvious injections (surge, mirror around zero, ×0.5 on raw values) are caught by the fake model.
    // Its threshold comes from the training range, as the baselines' do: with scores of 0 and 1 only,
    // either the middle of the gap (0.5) or 0 (flagging everything is the best F1 on training data).
    const fake = result.runs.find((r) => r.scorer === 'glsl-model' && r.seed === 1)!;
    expect([0, 0.5]).toContain(fake.threshold);
    expect(fake.counts.tp).toBeGreaterThan(0);
    // The same scores at the model's own (validation) threshold flag nothing.
    const own = result.runs.find((r) => r.scorer === 'glsl-model (validation threshold)' && r.seed === 1)!;
    expect(own.threshold).toBe(1.5);
    expect(own.counts.tp + own.counts.fp).toBe(0);
  });
});
