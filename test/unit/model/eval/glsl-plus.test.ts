import { describe, expect, it } from 'vitest';
import { createRng } from '../../../../common/random.ts';
import { injectAnomaly, reciprocal } from '../../../../sources/inject.ts';
import { computeStats } from '../../../../sources/normalize.ts';
import { selectNodes } from '../../../../model/eval/clustered.ts';
import {
  AUTHORS_GLSL_PLUS_RANGES,
  GLSL_PLUS_CLUSTER,
  GLSL_PLUS_INJECTIONS,
  GLSL_PLUS_PROTOCOL,
  clusterIndices,
  halveSeries,
} from '../../../../model/eval/glsl-plus.ts';
import {
  AUTHORS_GLSL_PLUS,
  GLSL_PLUS_RESULTS,
  comparisonTable,
  runGlslPlusEvalCommand,
} from '../../../../model/eval/glsl-plus-command.ts';
import { RESULTS_END, RESULTS_START, runIbrlEvalCommand, spliceResults } from '../../../../model/eval/ibrl-command.ts';
import { flaggedCleanByNode } from '../../../../model/eval/false-alarms.ts';
import { planPaperInjections } from '../../../../model/eval/paper-injections.ts';
import { protocolLayout } from '../../../../model/eval/protocol.ts';
import { runEvaluation } from '../../../../model/eval/run.ts';
import { makeSeries } from '../../sources/helpers.ts';

describe('halveSeries (PAA over pairs)', () => {
  it('averages every two consecutive samples per node and modality, and keeps each pair’s first time', () => {
    const series = { ...makeSeries(7, 2, 2, (t, n, m) => t * 10 + n + m / 10), times: [0, 1, 2, 3, 4, 5, 6] };
    const halved = halveSeries(series);
    // 7 samples → 3 pairs; the trailing odd sample is dropped, as a whole-block PAA does.
    expect(halved.steps).toBe(3);
    expect(halved.times).toEqual([0, 2, 4]);
    for (let s = 0; s < 3; s++)
      for (let n = 0; n < 2; n++)
        for (let m = 0; m < 2; m++)
          expect(halved.data[(s * 2 + n) * 2 + m]).toBeCloseTo((2 * s * 10 + (2 * s + 1) * 10) / 2 + n + m / 10, 4);
  });

  it('leaves a missing value out of its pair and keeps a pair with none missing', () => {
    const series = makeSeries(4, 1, 1, (t) => [1, NaN, NaN, NaN][t]);
    const halved = halveSeries(series);
    expect(halved.data[0]).toBe(1);
    expect(Number.isNaN(halved.data[1])).toBe(true);
  });

  it('halves the paper series from 5,000 to 2,500 samples, which places 200 check points like the authors', () => {
    expect(halveSeries(makeSeries(5000, 1, 1, () => 0)).steps).toBe(2500);
    const layout = protocolLayout(2500, GLSL_PLUS_PROTOCOL);
    expect(layout.trainEnd).toBe(1500);
    expect(layout.testStart).toBe(1481);
    // Their test data has 1019 steps: np.int16(np.linspace(40, 979, 200)).
    expect(layout.checkPoints).toHaveLength(200);
    expect(layout.checkPoints[0]).toBe(1481 + 40);
    expect(layout.checkPoints[1]).toBe(1481 + 44); // 40 + 939/199 = 44.7
    expect(layout.checkPoints[199]).toBe(1481 + 979);
  });

  it('rejects a segment that is not a positive integer', () => {
    expect(() =>
      halveSeries(
        makeSeries(4, 1, 1, () => 0),
        0,
      ),
    ).toThrow(/positive integer/);
  });
});

describe('reciprocal mirror', () => {
  it('turns the raw value into its reciprocal and nudges an exact zero first, as the authors do', () => {
    expect(reciprocal(20)).toBeCloseTo(0.05, 10);
    expect(reciprocal(-4)).toBe(-0.25);
    expect(reciprocal(0)).toBeCloseTo(1e5, 3);
  });

  it('replaces only the injected samples; the sign mirror stays the default', () => {
    const series = makeSeries(10, 2, 1, (t, n) => 20 + t + n);
    const stats = computeStats(series);
    const base = { kind: 'mirror' as const, node: 1, modality: 0, start: 3, length: 2, pivot: 'zero' as const };
    const flipped = injectAnomaly(series, { ...base, mirror: 'reciprocal' }, stats);
    for (let t = 0; t < 10; t++) {
      const before = series.data[t * 2 + 1];
      const after = flipped.data[t * 2 + 1];
      if (t === 3 || t === 4) expect(after).toBeCloseTo(1 / before, 6);
      else expect(after).toBe(before);
      expect(flipped.data[t * 2]).toBe(series.data[t * 2]);
    }
    expect(injectAnomaly(series, base, stats).data[3 * 2 + 1]).toBe(-(20 + 3 + 1));
  });

  it('is what the GLSL+ plan asks for on every mirror, and only on mirrors', () => {
    // Uncorrelated noise: no ramps, so scale, mirror and surge share the plan.
    const rng = createRng(4);
    const raw = makeSeries(400, 4, 3, () => 20 + rng.normal());
    const checkPoints = Array.from({ length: 60 }, (_, i) => 30 + 5 * i);
    const options = { injectionLength: 5, window: 20, nearest: [1, 0, 3, 2] };
    const plus = planPaperInjections(raw, checkPoints, createRng(1), { ...options, ...GLSL_PLUS_INJECTIONS });
    const mirrors = plus.filter((p) => p.injection.kind === 'mirror');
    expect(mirrors.length).toBeGreaterThan(0);
    expect(mirrors.every((p) => p.injection.mirror === 'reciprocal')).toBe(true);
    expect(plus.filter((p) => p.injection.kind !== 'mirror').every((p) => p.injection.mirror === undefined)).toBe(true);
    const paper = planPaperInjections(raw, checkPoints, createRng(1), options);
    expect(paper.every((p) => p.injection.mirror === undefined)).toBe(true);
  });
});

describe('cluster selection', () => {
  it('is the authors’ 16-mote cluster 0, with mote 18 in it', () => {
    expect(GLSL_PLUS_CLUSTER).toHaveLength(16);
    expect(new Set(GLSL_PLUS_CLUSTER).size).toBe(16);
    expect(GLSL_PLUS_CLUSTER).toContain('18');
    // Motes 5 and 15 have no data in IBRL.
    expect(GLSL_PLUS_CLUSTER).not.toContain('15');
  });

  it('picks the cluster’s motes in the cluster’s order, whatever the data’s order', () => {
    const series = makeSeries(3, 4, 1, (t, n) => 10 * n + t);
    series.nodes = ['18', '3', '7', '9'];
    const indices = clusterIndices(series.nodes, ['7', '18']);
    expect(indices).toEqual([2, 0]);
    const sub = selectNodes(series, indices);
    expect(sub.nodes).toEqual(['7', '18']);
    expect(Array.from(sub.data.slice(0, 2))).toEqual([20, 0]);
  });

  it('names every mote the data lacks', () => {
    expect(() => clusterIndices(['7', '8'], ['7', '18', '22'])).toThrow(/motes 18, 22/);
  });
});

describe('the GLSL+ evaluation', () => {
  it('judges every check point with the GLSL+ ranges and mirror, and reports the baselines beside 0.913', async () => {
    const rng = createRng(9);
    const raw = makeSeries(400, 4, 3, (t, n, m) => [25, 30, 2.6][m] + Math.sin(t / 30 + n) + 0.05 * rng.normal());
    raw.modalities = ['temperature', 'humidity', 'voltage'];
    const positions = new Map(raw.nodes.map((id, i) => [id, { x: i, y: 0 }]));
    const result = await runEvaluation({
      raw,
      positions,
      secondsPerStep: 172.8,
      seeds: [1],
      protocol: { ...GLSL_PLUS_PROTOCOL, checkPoints: 20, margin: 5 },
      injectionRanges: 'authors',
      authorsRanges: AUTHORS_GLSL_PLUS_RANGES,
      injectionStyle: GLSL_PLUS_INJECTIONS,
      neighbours: 2,
    });
    expect(result.runs.map((r) => r.scorer)).toEqual(['rolling-zscore', 'neighbour-median']);
    for (const run of result.runs) expect(run.counts.tp + run.counts.fn).toBe(20);
    const table = comparisonTable(result);
    expect(table[2]).toContain(AUTHORS_GLSL_PLUS.f1.toFixed(3));
    expect(table).toHaveLength(5);
    expect(table[3]).toMatch(/^\| rolling-zscore \| \d\.\d{3} \| \d\.\d{3} ± 0\.000 \|/);
  });
});

describe('eval ibrl --protocol glsl-plus wiring', () => {
  const flags = {
    data: 'nowhere',
    seeds: 1,
    firstSeed: 1,
    epochs: 1,
    batchSize: 32,
    patience: 6,
    clusters: 0,
    model: false,
    injectionRanges: 'authors',
    neighbours: 4,
  };

  it('rejects an unknown protocol and --clusters with glsl-plus before loading anything', async () => {
    await expect(runIbrlEvalCommand({ ...flags, protocol: 'glsl++' })).rejects.toMatchObject({ code: 'BAD_FLAG' });
    await expect(runGlslPlusEvalCommand({ ...flags, clusters: 3 })).rejects.toThrow(/--clusters 3 does not apply/);
  });

  it('writes its results between its own markers and leaves the paper results alone', () => {
    const doc = [
      'intro',
      RESULTS_START,
      'paper results',
      RESULTS_END,
      GLSL_PLUS_RESULTS.start,
      'old',
      GLSL_PLUS_RESULTS.end,
      'tail',
    ].join('\n');
    const out = spliceResults(doc, 'new glsl+ results', GLSL_PLUS_RESULTS);
    expect(out).toContain('paper results');
    expect(out).not.toContain('old');
    expect(out).toContain(`${GLSL_PLUS_RESULTS.start}\nnew glsl+ results\n${GLSL_PLUS_RESULTS.end}\ntail`);
  });
});

describe('flaggedCleanByNode', () => {
  it('counts, over the flagged clean windows only, the node ranked first', () => {
    // Rows are window ends 10…13; nodes a, b.
    const scores = {
      from: 10,
      to: 14,
      cluster: Float32Array.from([0.9, 0.2, 0.8, 0.7]),
      node: Float32Array.from([0.9, 0.1, 0.2, 0.1, 0.3, 0.8, 0.1, 0.7]),
      reconstruction: new Float32Array(0),
    };
    expect(flaggedCleanByNode(scores, ['a', 'b'], [10, 11, 12, 13, 20], 0.5)).toEqual({ a: 1, b: 2 });
    expect(flaggedCleanByNode(scores, ['a', 'b'], [10, 12], 0.95)).toEqual({});
  });
});
