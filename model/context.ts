/**
 * The slow context path: per node × modality features over a horizon of
 * hours, which the window (20 ticks, centred) cannot see. One stateful,
 * deterministic function (`stepContext`) advances them tick by tick; training
 * and evaluation run it over whole series (`computeContext`) and the live
 * detector keeps the same state in each cluster's state, so both see exactly
 * the same numbers (tested).
 *
 * Everything is in z-units of the node's own training statistics. Per node
 * × modality, with the median of its graph neighbours (a median, so one
 * faulty neighbour does not move the reference of its healthy neighbours):
 *
 * - level: r = x − median(neighbours' x), and r against the node's own learned
 *   relation b, a slow clipped EWMA of r. Legitimate slow drifts are absorbed
 *   into b, but b can follow a departure by at most `clip / baselineTicks` per
 *   tick, so a fault's offset or drift stays visible for hours. Piecewise
 *   aggregate (PAA) segments of r − b cover the last segments × segmentTicks ticks.
 * - variance: q = log of the node's short rolling std of first differences
 *   (each clipped to a few times the current std, so a single spike is soon
 *   forgotten) over its neighbours' median one (stuck → very negative, noise →
 *   positive), and q against its own slow baseline.
 * - correlation: of the node's first differences with the neighbours' median
 *   differences over `correlationTicks`, against its own slow baseline.
 * - repeats: the share of recent ticks whose value repeated the previous one
 *   exactly, against the neighbours' median share (a stuck sensor, or
 *   readings missing and held by the aligner, repeat; quantized healthy
 *   neighbours repeat too, so only the difference counts).
 */
import { medianOfSorted } from '../common/median.ts';

export interface ContextConfig {
  /** Ticks of the slow baselines' EWMA (about a day of ticks). */
  baselineTicks: number;
  /** Largest per-tick update of a baseline is clip / baselineTicks (z-units). */
  clip: number;
  /** Ticks a node's baselines average plainly before the clipped EWMA takes over. */
  warmupTicks: number;
  /** PAA segments of r − b, newest first. */
  segments: number;
  /** Ticks per PAA segment. */
  segmentTicks: number;
  /** Ticks of the EWMA of squared first differences (the short rolling std). */
  varianceTicks: number;
  /** Ticks of the EWMAs behind the correlation with the neighbours. */
  correlationTicks: number;
}

export const DEFAULT_CONTEXT_CONFIG: ContextConfig = {
  baselineTicks: 1000,
  clip: 0.25,
  warmupTicks: 100,
  segments: 8,
  segmentTicks: 30,
  varianceTicks: 20,
  correlationTicks: 120,
};

/** Features per node × modality: PAA segments, r − b now, r, q − bq, q, correlation − its baseline, repeats − the neighbours'. */
export function contextFeatures(config: ContextConfig): number {
  return config.segments + 6;
}

// Scalars kept per node × modality row, before the PAA segment sums (the ring of r − b is in the history).
const PREV = 0;
const HAS_PREV = 1;
const COUNT = 2;
const LEVEL_BASE = 3;
const DIFF_SQ = 4;
const VAR_BASE = 5;
const CXY = 6;
const CXX = 7;
const CYY = 8;
const CORR_BASE = 9;
const REPEATS = 10;
const SCALARS = 11;

/** Floor of the rolling std in z-units, so a flat node does not give log(0). */
const STD_FLOOR = 0.02;
/**
 * A first difference enters the rolling std clipped to this many times the
 * current std (at least SPREAD_FLOOR): a lasting rise in spread (noise) still
 * shows within a few ticks, while one spike raises it by a third at most
 * instead of keeping the node's spread high for an hour after it.
 */
const SPREAD_CLIP = 4;
const SPREAD_FLOOR = 0.05;

/** Float64 values per node × modality row of a ContextState: the running scalars and the PAA segment sums. */
export function contextRowSize(config: ContextConfig): number {
  return SCALARS + config.segments;
}

/** Float32 values per node × modality row of a ContextState's history: the ring of the last segments × segmentTicks values of r − b. */
export function contextHistorySize(config: ContextConfig): number {
  return config.segments * config.segmentTicks;
}

/**
 * The context path's state for one cluster, rows node-major (node × modality).
 * The history is float32: it is most of the state (240 values a row against
 * 19), and each value is rounded to float32 before it enters a segment sum,
 * so the sums take away exactly what they added when it moves on.
 */
export interface ContextState {
  /** Ticks stepped so far (position in the ring of r − b). */
  ticks: number;
  /** N × M rows of contextRowSize float64 values. */
  values: Float64Array;
  /** N × M rows of contextHistorySize float32 values. */
  history: Float32Array;
}

export function createContextState(nodes: number, modalities: number, config: ContextConfig): ContextState {
  const rows = nodes * modalities;
  return {
    ticks: 0,
    values: new Float64Array(rows * contextRowSize(config)),
    history: new Float32Array(rows * contextHistorySize(config)),
  };
}

/** Whether a context state holds `rows` node × modality rows of this configuration. */
export function contextStateFits(state: ContextState, rows: number, config: ContextConfig): boolean {
  return (
    state.values.length === rows * contextRowSize(config) && state.history.length === rows * contextHistorySize(config)
  );
}

/** A deep copy. */
export function cloneContextState(state: ContextState): ContextState {
  return { ticks: state.ticks, values: state.values.slice(), history: state.history.slice() };
}

/** The state for a new node order: surviving nodes keep their rows, new nodes start fresh. */
export function resizeContextState(
  state: ContextState,
  oldNodes: string[],
  newNodes: string[],
  modalities: number,
  config: ContextConfig,
): ContextState {
  const next = createContextState(newNodes.length, modalities, config);
  next.ticks = state.ticks;
  const rowLength = modalities * contextRowSize(config);
  const historyLength = modalities * contextHistorySize(config);
  const oldIndex = new Map(oldNodes.map((node, i) => [node, i]));
  newNodes.forEach((node, j) => {
    const i = oldIndex.get(node);
    if (i === undefined) return;
    next.values.set(state.values.subarray(i * rowLength, (i + 1) * rowLength), j * rowLength);
    next.history.set(state.history.subarray(i * historyLength, (i + 1) * historyLength), j * historyLength);
  });
  return next;
}

/**
 * A context state from the layout before the float32 history (checkpoints
 * written before it): rows of contextRowSize + contextHistorySize float64
 * values, the ring last. The ring is rounded to float32 and the segment sums
 * are summed afresh from it, so they take away exactly what they hold.
 */
export function contextStateFromFloat64Rows(ticks: number, rows: Float64Array, config: ContextConfig): ContextState {
  const row = contextRowSize(config);
  const ring = contextHistorySize(config);
  const count = rows.length / (row + ring);
  if (!Number.isInteger(count))
    throw new RangeError(`context: ${rows.length} values are not whole rows of ${row + ring}`);
  const state = createContextState(count, 1, config);
  state.ticks = ticks;
  for (let k = 0; k < count; k++) {
    const from = k * (row + ring);
    state.values.set(rows.subarray(from, from + row), k * row);
    state.history.set(rows.subarray(from + row, from + row + ring), k * ring);
    resumSegments(state, k, config);
  }
  return state;
}

/** Sets row k's PAA segment sums to the sums of its history values (segment s: the s-th newest segmentTicks values). */
function resumSegments(state: ContextState, k: number, config: ContextConfig): void {
  const ring = contextHistorySize(config);
  if (ring === 0) return;
  const sums = k * contextRowSize(config) + SCALARS;
  const history = k * ring;
  for (let s = 0; s < config.segments; s++) {
    let sum = 0;
    for (let a = s * config.segmentTicks; a < (s + 1) * config.segmentTicks; a++) {
      sum += state.history[history + ((((state.ticks - 1 - a) % ring) + ring) % ring)];
    }
    state.values[sums + s] = sum;
  }
}

/** Neighbour lists (self excluded) from an N × N adjacency (> 0 = edge). */
export function neighbourLists(adjacency: ArrayLike<ArrayLike<number>>): number[][] {
  const n = adjacency.length;
  return Array.from({ length: n }, (_, i) => {
    const out: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i && (adjacency[i][j] > 0 || adjacency[j][i] > 0)) out.push(j);
    return out;
  });
}

/** Median of the first `count` values of `values` (sorted in place: insertion sort, neighbour lists are short). */
function prefixMedianInPlace(values: Float64Array, count: number): number {
  for (let a = 1; a < count; a++) {
    const x = values[a];
    let b = a - 1;
    while (b >= 0 && values[b] > x) {
      values[b + 1] = values[b];
      b--;
    }
    values[b + 1] = x;
  }
  return medianOfSorted(count, (i) => values[i]);
}

const clamp = (x: number, c: number): number => (x > c ? c : x < -c ? -c : x);

/** Pass 1 of a tick: each node × modality's held value, first difference, rolling std and share of repeats (state updated in place). */
function advanceOwnSeries(
  v: Float64Array,
  values: ArrayLike<number>,
  count: number,
  row: number,
  config: ContextConfig,
) {
  const x = new Float64Array(count);
  const d = new Float64Array(count);
  const std = new Float64Array(count);
  const repeats = new Float64Array(count);
  const aVar = 1 / config.varianceTicks;
  for (let k = 0; k < count; k++) {
    const base = k * row;
    const value = values[k];
    const hasPrev = v[base + HAS_PREV] > 0;
    const current = Number.isFinite(value) ? value : hasPrev ? v[base + PREV] : 0;
    x[k] = current;
    d[k] = hasPrev ? current - v[base + PREV] : 0;
    v[base + PREV] = current;
    // Only a real reading starts the course: a node silent at the stream's start has no step into its first reading.
    if (hasPrev || Number.isFinite(value)) v[base + HAS_PREV] = 1;
    const spreadLimit = SPREAD_CLIP * Math.max(Math.sqrt(v[base + DIFF_SQ]), SPREAD_FLOOR);
    const clipped = clamp(d[k], spreadLimit);
    v[base + DIFF_SQ] += aVar * (clipped * clipped - v[base + DIFF_SQ]);
    std[k] = Math.sqrt(v[base + DIFF_SQ]);
    v[base + REPEATS] += aVar * ((hasPrev && d[k] === 0 ? 1 : 0) - v[base + REPEATS]);
    repeats[k] = v[base + REPEATS];
  }
  return { x, d, std, repeats };
}

/**
 * PAA of r − b, newest segment first, as running sums at `sums` in the
 * float64 values and the ring of the last segments × segmentTicks values at
 * `ring` in the float32 history: each tick the oldest value of every segment
 * moves on to the next one (the last one's drops out) and the new value,
 * rounded to float32 as the ring keeps it, enters the first. Ticks before the
 * node's first sample count as 0.
 */
function pushSegments(
  state: ContextState,
  sums: number,
  ringBase: number,
  slot: number,
  level: number,
  config: ContextConfig,
): void {
  const v = state.values;
  const history = state.history;
  const ring = config.segments * config.segmentTicks;
  for (let s = 0; s < config.segments; s++) {
    const moving = history[ringBase + ((slot - (s + 1) * config.segmentTicks + ring * (s + 2)) % ring)];
    v[sums + s] -= moving;
    if (s + 1 < config.segments) v[sums + s + 1] += moving;
  }
  history[ringBase + slot] = level;
  v[sums] += history[ringBase + slot];
}

/**
 * Advances the context by one tick and writes the features of every node ×
 * modality into `out` (N × M × F, node-major, F = contextFeatures). `values`
 * is the tick's N × M z-values (NaN = missing: the node's previous value is
 * held, as the windows do). A node without neighbours gets zero features.
 */
export function stepContext(
  state: ContextState,
  values: ArrayLike<number>,
  neighbours: number[][],
  m: number,
  config: ContextConfig,
  out: Float32Array,
): void {
  const n = neighbours.length;
  const row = contextRowSize(config);
  const f = contextFeatures(config);
  const ring = contextHistorySize(config);
  if (values.length !== n * m)
    throw new RangeError(`stepContext: expected ${n * m} values (${n} nodes × ${m} modalities), got ${values.length}`);
  if (!contextStateFits(state, n * m, config))
    throw new RangeError(`stepContext: state holds ${state.values.length / (m * row)} nodes, the tick ${n}`);
  if (out.length !== n * m * f)
    throw new RangeError(`stepContext: output needs ${n * m * f} values, got ${out.length}`);
  const v = state.values;
  const slot = ring > 0 ? state.ticks % ring : 0;
  // Pass 1: each node's own value, first difference and rolling std.
  const { x, d, std, repeats } = advanceOwnSeries(v, values, n * m, row, config);
  // Pass 2: against the neighbours' medians.
  const aBase = 1 / config.baselineTicks;
  const aCorr = 1 / config.correlationTicks;
  const scratch = new Float64Array(n);
  const reference = (source: Float64Array, i: number, j: number): number => {
    const list = neighbours[i];
    for (let a = 0; a < list.length; a++) scratch[a] = source[list[a] * m + j];
    return prefixMedianInPlace(scratch, list.length);
  };
  const warm = config.warmupTicks;
  const clip = config.clip;
  // Baselines: a plain mean while warming up, then a clipped slow EWMA (bounded absorption rate). Returns target − baseline.
  const update = (at: number, target: number, count: number): number => {
    const delta = target - v[at];
    v[at] += count <= warm ? delta / count : aBase * clamp(delta, clip);
    return target - v[at];
  };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const k = i * m + j;
      const base = k * row;
      const o = k * f;
      if (neighbours[i].length === 0) {
        out.fill(0, o, o + f);
        continue;
      }
      const r = x[k] - reference(x, i, j);
      const dRef = reference(d, i, j);
      const q = Math.log(std[k] + STD_FLOOR) - Math.log(reference(std, i, j) + STD_FLOOR);
      v[base + CXY] += aCorr * (d[k] * dRef - v[base + CXY]);
      v[base + CXX] += aCorr * (d[k] * d[k] - v[base + CXX]);
      v[base + CYY] += aCorr * (dRef * dRef - v[base + CYY]);
      const corr =
        v[base + CXY] / Math.sqrt(v[base + CXX] * v[base + CYY] + STD_FLOOR * STD_FLOOR * STD_FLOOR * STD_FLOOR);
      const count = v[base + COUNT] + 1;
      v[base + COUNT] = count;
      const level = update(base + LEVEL_BASE, r, count);
      const variance = update(base + VAR_BASE, q, count);
      const correlation = update(base + CORR_BASE, corr, count);
      if (config.segments > 0) pushSegments(state, base + SCALARS, k * ring, slot, level, config);
      for (let s = 0; s < config.segments; s++) out[o + s] = v[base + SCALARS + s] / config.segmentTicks;
      out[o + config.segments] = level;
      out[o + config.segments + 1] = r;
      out[o + config.segments + 2] = variance;
      out[o + config.segments + 3] = q;
      out[o + config.segments + 4] = correlation;
      out[o + config.segments + 5] = repeats[k] - reference(repeats, i, j);
    }
  }
  state.ticks++;
}

/**
 * The context features of every step of a z-normalized series (time-major
 * N × M × F per step), computed by stepping a fresh state from step 0, as the
 * live detector does.
 */
export function computeContext(
  data: Float32Array,
  steps: number,
  n: number,
  m: number,
  adjacency: ArrayLike<ArrayLike<number>>,
  config: ContextConfig,
): Float32Array {
  const f = contextFeatures(config);
  const out = new Float32Array(steps * n * m * f);
  const state = createContextState(n, m, config);
  const neighbours = neighbourLists(adjacency);
  for (let t = 0; t < steps; t++) {
    stepContext(
      state,
      data.subarray(t * n * m, (t + 1) * n * m),
      neighbours,
      m,
      config,
      out.subarray(t * n * m * f, (t + 1) * n * m * f),
    );
  }
  return out;
}
