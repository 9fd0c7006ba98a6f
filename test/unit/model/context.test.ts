import { beforeAll, describe, expect, it } from 'vitest';
import {
  computeContext,
  contextFeatures,
  DEFAULT_CONTEXT_CONFIG,
  neighbourLists,
  type ContextConfig,
} from '../../../model/context.ts';
import { ensureBackend } from '../../../model/runtime.ts';
import { deserializeClusterState, serializeClusterState } from '../../../model/state.ts';
import { createRng } from '../../../common/random.ts';
import { injectAnomaly, type Injection } from '../../../sources/inject.ts';
import { computeStats } from '../../../sources/normalize.ts';
import type { Series } from '../../../sources/series.ts';
import { pathGraph, tinyConfig, untrainedDetector } from './helpers.ts';
import { median } from '../../../common/median.ts';

beforeAll(async () => {
  await ensureBackend();
});

const small: ContextConfig = {
  baselineTicks: 50,
  clip: 0.25,
  warmupTicks: 10,
  segments: 3,
  segmentTicks: 4,
  varianceTicks: 5,
  correlationTicks: 10,
};

/** Nodes sharing a common signal plus their own noise: z-like values. */
function sharedSignal(nodes: number, steps: number, seed: number): Series {
  const rng = createRng(seed);
  const data = new Float32Array(steps * nodes);
  for (let t = 0; t < steps; t++) {
    const common = Math.sin(t / 15);
    for (let i = 0; i < nodes; i++) data[t * nodes + i] = common + 0.1 * rng.normal();
  }
  return { nodes: Array.from({ length: nodes }, (_, i) => `n${i}`), modalities: ['temperature'], steps, data };
}

const complete = (n: number): number[][] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (__, j) => (i === j ? 0 : 1)));
/** The series with `fault` injected, sized by the clean series' statistics. */
const withFault = (clean: Series, fault: Injection): Series => injectAnomaly(clean, fault, computeStats(clean));
/** The context features of a one-modality series whose nodes all neighbour each other. */
const contextOf = (series: Series, config: ContextConfig = DEFAULT_CONTEXT_CONFIG): Float32Array =>
  computeContext(series.data, series.steps, series.nodes.length, 1, complete(series.nodes.length), config);
const feature = (context: Float32Array, t: number, node: number, n: number, f: number, k: number): number =>
  context[(t * n + node) * f + k];

describe('context path', () => {
  it('a node silent at the stream start gets no variance jump from its first reading', () => {
    const n = 4;
    const series = sharedSignal(n, 60, 5);
    const late = Float32Array.from(series.data);
    // Node 0 reads 3.0 from tick 10 on, and nothing before: its first reading is no step.
    for (let t = 0; t < 60; t++) late[t * n] = t < 10 ? NaN : 3;
    const f = contextFeatures(small);
    const context = computeContext(late, 60, n, 1, complete(n), small);
    // q (log std against the neighbours') at the first reading: a constant course after
    // silence has no spread, so it is far below the neighbours', never above.
    expect(feature(context, 10, 0, n, f, small.segments + 3)).toBeLessThan(0);
  });

  it('live stepping (Detector.step, with a checkpoint round trip in the middle) gives exactly the offline features', async () => {
    const config = tinyConfig({ context: small });
    const graph = pathGraph(4);
    const detector = untrainedDetector(config, graph);
    const m = config.modalities.length;
    const rng = createRng(5);
    const steps = 40;
    const data = Float32Array.from({ length: steps * 4 * m }, () => rng.normal());
    data[17 * 4 * m + 3] = NaN; // a missing reading: held by both paths
    const offline = computeContext(data, steps, 4, m, graph.adjacency, small);
    let state = detector.createState(graph.nodes);
    const f = m * contextFeatures(small) * 4;
    for (let t = 0; t < steps; t++) {
      if (t === 20) state = deserializeClusterState(JSON.parse(JSON.stringify(serializeClusterState(state))), config);
      const [out] = await detector.step([{ state, values: data.slice(t * 4 * m, (t + 1) * 4 * m) }]);
      expect(Array.from(out.context!)).toEqual(Array.from(offline.subarray(t * f, (t + 1) * f)));
    }
    expect(state.context!.ticks).toBe(steps);
    // The features react to the data (not all zeros).
    expect(offline.some((v) => Math.abs(v) > 0.1)).toBe(true);
    detector.dispose();
  });

  it('keeps an offset that outlasts a window visible for hours, and absorbs it no faster than clip / baselineTicks per tick', () => {
    const n = 5;
    const steps = 1200;
    const clean = sharedSignal(n, steps, 1);
    const faulty = withFault(clean, { kind: 'offset', node: 2, modality: 0, start: 600, length: 600, magnitude: 3 });
    const config = DEFAULT_CONTEXT_CONFIG;
    const f = contextFeatures(config);
    const context = contextOf(faulty);
    const level = config.segments; // r − b now
    expect(Math.abs(feature(context, 590, 2, n, f, level))).toBeLessThan(0.5);
    // Six hundred ticks later the departure is still ≥ 3 − 600 · clip / baselineTicks.
    expect(feature(context, 1199, 2, n, f, level)).toBeGreaterThan(
      3 - 600 * (config.clip / config.baselineTicks) - 0.3,
    );
    // Its healthy neighbours do not move (median reference).
    expect(Math.abs(feature(context, 1199, 1, n, f, level))).toBeLessThan(0.5);
  });

  it('shows a stuck node as variance collapse and a noisy one as variance increase against the neighbours', () => {
    const n = 5;
    const steps = 600;
    const clean = sharedSignal(n, steps, 2);
    const stuck = withFault(clean, { kind: 'stuck', node: 0, modality: 0, start: 400, length: 200 });
    const noisy = withFault(clean, { kind: 'noise', node: 0, modality: 0, start: 400, length: 200, magnitude: 1 });
    const f = contextFeatures(DEFAULT_CONTEXT_CONFIG);
    const q = DEFAULT_CONTEXT_CONFIG.segments + 2; // q − its baseline
    const stuckContext = contextOf(stuck);
    const noisyContext = contextOf(noisy);
    expect(feature(stuckContext, 599, 0, n, f, q)).toBeLessThan(-1);
    expect(feature(noisyContext, 599, 0, n, f, q)).toBeGreaterThan(1);
    expect(Math.abs(feature(stuckContext, 399, 0, n, f, q))).toBeLessThan(0.5);
  });

  it('gives a node without neighbours zero features and rejects a tick of the wrong size', () => {
    expect(
      neighbourLists([
        [0, 0],
        [0, 0],
      ]),
    ).toEqual([[], []]);
    const context = computeContext(
      Float32Array.from([1, 2, 3, 4]),
      2,
      2,
      1,
      [
        [0, 0],
        [0, 0],
      ],
      small,
    );
    expect(Array.from(context).every((v) => v === 0)).toBe(true);
    expect(() => computeContext(Float32Array.from([1, 2, 3]), 2, 2, 1, complete(2), small)).toThrow(
      /expected 2 values/,
    );
  });
});

describe('context path: repeats', () => {
  it('shows readings held by the aligner (dropout) as more repeats than the neighbours have', () => {
    const n = 5;
    const steps = 500;
    const clean = sharedSignal(n, steps, 4);
    const held = withFault(clean, { kind: 'dropout', node: 3, modality: 0, start: 400, length: 100 });
    const f = contextFeatures(DEFAULT_CONTEXT_CONFIG);
    const repeats = DEFAULT_CONTEXT_CONFIG.segments + 5;
    const context = contextOf(held);
    expect(feature(context, 399, 3, n, f, repeats)).toBe(0);
    expect(feature(context, 499, 3, n, f, repeats)).toBeGreaterThan(0.3);
    expect(feature(context, 499, 1, n, f, repeats)).toBe(0);
  });
});

describe('context state across node changes', () => {
  it("keeps a surviving node's context when the cluster is resized and starts a new node fresh", async () => {
    const { createClusterState, resizeClusterState } = await import('../../../model/state.ts');
    const config = tinyConfig({ context: small });
    const m = config.modalities.length;
    const state = createClusterState(['a', 'b', 'c'], config);
    const neighbours = neighbourLists(complete(3));
    const { stepContext } = await import('../../../model/context.ts');
    const out = new Float32Array(3 * m * contextFeatures(small));
    for (let t = 0; t < 12; t++)
      stepContext(
        state.context!,
        Float32Array.from({ length: 3 * m }, (_, k) => Math.sin(t + k)),
        neighbours,
        m,
        small,
        out,
      );
    const resized = resizeClusterState(state, ['c', 'd', 'a'], config);
    const row = state.context!.values.length / 3;
    expect(Array.from(resized.context!.values.subarray(0, row))).toEqual(
      Array.from(state.context!.values.subarray(2 * row, 3 * row)),
    );
    expect(Array.from(resized.context!.values.subarray(2 * row, 3 * row))).toEqual(
      Array.from(state.context!.values.subarray(0, row)),
    );
    expect(resized.context!.values.subarray(row, 2 * row).every((v) => v === 0)).toBe(true);
    const historyRow = state.context!.history.length / 3;
    expect(Array.from(resized.context!.history.subarray(0, historyRow))).toEqual(
      Array.from(state.context!.history.subarray(2 * historyRow, 3 * historyRow)),
    );
    expect(resized.context!.history.subarray(historyRow, 2 * historyRow).every((v) => v === 0)).toBe(true);
    expect(resized.context!.ticks).toBe(12);
  });
});

describe('context path: PAA segments', () => {
  it('the running segment sums give the means of the last segments × segmentTicks values of r − b, newest first', () => {
    const n = 3;
    const steps = 60;
    const rng = createRng(9);
    const data = Float32Array.from({ length: steps * n }, () => rng.normal());
    const f = contextFeatures(small);
    const context = computeContext(data, steps, n, 1, complete(n), small);
    const level = (t: number): number => feature(context, t, 0, n, f, small.segments); // r − b of node 0 at tick t
    for (const t of [5, 11, 12, 13, 40, 59]) {
      for (let s = 0; s < small.segments; s++) {
        let sum = 0;
        for (let k = 0; k < small.segmentTicks; k++) {
          const at = t - s * small.segmentTicks - k;
          if (at >= 0) sum += level(at);
        }
        expect(feature(context, t, 0, n, f, s)).toBeCloseTo(sum / small.segmentTicks, 5);
      }
    }
  });
});

/**
 * The level residual r − b of every node × modality, computed plainly from the
 * series (not with model/context.ts): a missing reading holds the node's last
 * one (0 before its first), r = x − median of the neighbours' held values, and
 * b is the plain mean of r over the first warmupTicks ticks, then an EWMA with
 * rate 1 / baselineTicks whose step is clipped to ±clip.
 */
function plainLevelResidual(
  data: Float32Array,
  steps: number,
  neighbours: number[][],
  m: number,
  config: ContextConfig,
): Float64Array[] {
  const n = neighbours.length;
  const held = new Float64Array(n * m);
  const baseline = new Float64Array(n * m);
  const out = Array.from({ length: n * m }, () => new Float64Array(steps));
  for (let t = 0; t < steps; t++) {
    for (let k = 0; k < n * m; k++) if (!Number.isNaN(data[t * n * m + k])) held[k] = data[t * n * m + k];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const k = i * m + j;
        const r = held[k] - median(neighbours[i].map((o) => held[o * m + j]));
        const count = t + 1;
        if (count <= config.warmupTicks) baseline[k] += (r - baseline[k]) / count;
        else baseline[k] += Math.max(-config.clip, Math.min(config.clip, r - baseline[k])) / config.baselineTicks;
        out[k][t] = r - baseline[k];
      }
    }
  }
  return out;
}

/** Plain PAA at tick t: segment s is the mean of the segmentTicks values ending s × segmentTicks ticks ago (0 before the start). */
function plainPaa(level: Float64Array, t: number, config: ContextConfig): number[] {
  return Array.from({ length: config.segments }, (_, s) => {
    let sum = 0;
    for (let k = 0; k < config.segmentTicks; k++) {
      const at = t - s * config.segmentTicks - k;
      if (at >= 0) sum += level[at];
    }
    return sum / config.segmentTicks;
  });
}

describe('context path: live PAA against a plain PAA of the series', () => {
  it('the live running-sum segments (Detector.step, checkpointed mid-stream) equal plain block means of r − b computed from the series', async () => {
    // Odd sizes, so the ring of segments × segmentTicks wraps many times and the checkpoint falls mid-segment.
    const paa: ContextConfig = { ...small, segments: 5, segmentTicks: 7, warmupTicks: 15, baselineTicks: 40 };
    const config = tinyConfig({ context: paa });
    const graph = pathGraph(5);
    const detector = untrainedDetector(config, graph);
    const n = graph.nodes.length;
    const m = config.modalities.length;
    const steps = 700;
    const rng = createRng(21);
    // A random walk with an offset fault, 6 % single missing readings and one long silence.
    const data = new Float32Array(steps * n * m);
    let walk = 0;
    for (let t = 0; t < steps; t++) {
      walk += 0.1 * rng.normal();
      for (let k = 0; k < n * m; k++) {
        const offset = k === 2 && t >= 300 && t < 450 ? 2.5 : 0;
        data[t * n * m + k] = rng.next() < 0.06 ? NaN : walk + offset + 0.3 * rng.normal();
      }
    }
    for (let t = 500; t < 530; t++) data[t * n * m + 5] = NaN;
    const levels = plainLevelResidual(data, steps, neighbourLists(graph.adjacency), m, paa);
    const f = contextFeatures(paa);
    let state = detector.createState(graph.nodes);
    for (let t = 0; t < steps; t++) {
      if (t === 333) state = deserializeClusterState(JSON.parse(JSON.stringify(serializeClusterState(state))), config);
      const [out] = await detector.step([{ state, values: data.slice(t * n * m, (t + 1) * n * m) }]);
      for (let k = 0; k < n * m; k++) {
        const live = Array.from(out.context!.subarray(k * f, k * f + paa.segments));
        const plain = plainPaa(levels[k], t, paa);
        for (let s = 0; s < paa.segments; s++) expect(live[s]).toBeCloseTo(plain[s], 4);
      }
    }
    // The fault shows in the segments (the comparison is not of zeros).
    expect(Math.abs(plainPaa(levels[2], 420, paa)[0])).toBeGreaterThan(0.5);
    detector.dispose();
  });
});
