/**
 * The GLSL paper's evaluation protocol, scorer-agnostic:
 *
 * - the first `trainFraction` of the steps train; the test range starts
 *   `window − 1` steps earlier so its first window ends on the first test step;
 * - `checkPoints` points evenly spaced through the test range, `margin` +
 *   `window` steps from either end (numpy's int cast of linspace);
 * - at each check point the clean window starting there gives a TN or an FP;
 * - one injection per check point, starting there, each scored on its own copy
 *   of the test data; it counts as detected when any window whose last sample
 *   lies in [t, t + window) is anomalous.
 */
import { PAPER_INJECTION_SAMPLES } from '../../sources/fault-catalogue.ts';
import type { Series } from '../../sources/series.ts';
import { midpointOfGap } from '../train/calibrate.ts';
import type { SeriesScorer } from '../scoring.ts';

export interface ProtocolOptions {
  trainFraction: number;
  window: number;
  checkPoints: number;
  margin: number;
  injectionLength: number;
}

export const PAPER_PROTOCOL: ProtocolOptions = {
  trainFraction: 0.6,
  window: 20,
  checkPoints: 100,
  margin: 20,
  injectionLength: PAPER_INJECTION_SAMPLES,
};

export interface ProtocolLayout {
  options: ProtocolOptions;
  steps: number;
  /** Steps [0, trainEnd) train. */
  trainEnd: number;
  /** First step of the test data (trainEnd − window + 1). */
  testStart: number;
  /** Check points as series steps, ascending. */
  checkPoints: number[];
}

/** numpy.int16(numpy.linspace(a, b, k)): evenly spaced, truncated toward zero. */
export function linspaceInt(a: number, b: number, k: number): number[] {
  if (k === 1) return [Math.trunc(a)];
  const step = (b - a) / (k - 1);
  return Array.from({ length: k }, (_, i) => Math.trunc(i === k - 1 ? b : a + i * step));
}

/** Where the check points of a test range [testStart, end) fall. */
export function checkPointsIn(testStart: number, end: number, options: ProtocolOptions): number[] {
  const length = end - testStart;
  const first = options.margin + options.window;
  const last = length - options.margin - options.window;
  if (last < first)
    throw new RangeError(
      `protocol: a test range of ${length} steps is too short for margin ${options.margin} and window ${options.window}`,
    );
  return linspaceInt(first, last, options.checkPoints).map((p) => testStart + p);
}

export function protocolLayout(steps: number, options: ProtocolOptions = PAPER_PROTOCOL): ProtocolLayout {
  const trainEnd = Math.trunc(steps * options.trainFraction);
  const testStart = trainEnd - options.window + 1;
  return { options, steps, trainEnd, testStart, checkPoints: checkPointsIn(testStart, steps, options) };
}

/** The windows that decide whether the injection at `checkPoint` is detected: last samples in [t, t + window). */
export function detectionWindows(checkPoint: number, window: number): { from: number; to: number } {
  return { from: checkPoint, to: checkPoint + window };
}

/** The clean window at a check point: the window starting there, whose last sample is t + window − 1. */
export function cleanWindowEnd(checkPoint: number, window: number): number {
  return checkPoint + window - 1;
}

/** What a scorer said at one clean check point. */
export interface CleanOutcome {
  checkPoint: number;
  probability: number;
}

/** What a scorer said about one injected anomaly: the scores of its detection windows. */
export interface InjectedOutcome {
  checkPoint: number;
  node: number;
  /** Cluster probability of each detection window, in order. */
  probabilities: Float32Array;
  /** Highest-scored node of each detection window. */
  topNodes: Int32Array;
}

export interface ProtocolOutcomes {
  clean: CleanOutcome[];
  injected: InjectedOutcome[];
}

export interface Counts {
  tp: number;
  fn: number;
  tn: number;
  fp: number;
  precision: number;
  recall: number;
  f1: number;
  /** Of the detected injections, the share whose first anomalous window ranks the injected node highest. */
  localization: number;
}

/** precision, recall and F1 from counts; 0 where a ratio is undefined. */
export function f1Score(tp: number, fp: number, fn: number): { precision: number; recall: number; f1: number } {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/** Counts the outcomes at a threshold (probability ≥ threshold = anomalous). */
export function countOutcomes(outcomes: ProtocolOutcomes, threshold: number): Counts {
  let tn = 0;
  let fp = 0;
  for (const c of outcomes.clean) {
    if (c.probability >= threshold) fp++;
    else tn++;
  }
  let tp = 0;
  let fn = 0;
  let located = 0;
  for (const a of outcomes.injected) {
    const first = a.probabilities.findIndex((p) => p >= threshold);
    if (first < 0) {
      fn++;
      continue;
    }
    tp++;
    if (a.topNodes[first] === a.node) located++;
  }
  return { tp, fn, tn, fp, ...f1Score(tp, fp, fn), localization: tp === 0 ? 0 : located / tp };
}

/** Index of the largest of `count` values starting at `offset`. */
function argmax(values: Float32Array, offset: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

export interface InjectedCase {
  checkPoint: number;
  node: number;
  /** The normalized series with this one anomaly in it. */
  series: Series;
}

/**
 * Runs one scorer over the clean check points and the injected cases.
 * `cleanFrom` is the first window end scored on the clean series; the
 * returned `cleanStream` holds every clean score from there on (for false
 * alarm rates over the whole clean test stream).
 */
export async function runProtocol(
  scorer: SeriesScorer,
  clean: Series,
  cleanFrom: number,
  checkPoints: readonly number[],
  cases: AsyncIterable<InjectedCase> | Iterable<InjectedCase>,
  window: number,
  onCase?: (index: number) => void,
): Promise<{ outcomes: ProtocolOutcomes; cleanStream: Awaited<ReturnType<SeriesScorer['scoreSeries']>> }> {
  const cleanStream = await scorer.scoreSeries(clean, cleanFrom, clean.steps);
  const cleanOutcomes = checkPoints.map((checkPoint) => {
    const end = cleanWindowEnd(checkPoint, window);
    if (end < cleanStream.from || end >= cleanStream.to)
      throw new RangeError(
        `protocol: clean window ending at ${end} is outside the scored range [${cleanStream.from}, ${cleanStream.to})`,
      );
    return { checkPoint, probability: cleanStream.cluster[end - cleanStream.from] };
  });
  const injected: InjectedOutcome[] = [];
  const N = clean.nodes.length;
  let index = 0;
  for await (const c of cases) {
    const { from, to } = detectionWindows(c.checkPoint, window);
    const end = Math.min(to, c.series.steps);
    const scores = await scorer.scoreSeries(c.series, from, end);
    const rows = end - from;
    const topNodes = new Int32Array(rows);
    for (let r = 0; r < rows; r++) topNodes[r] = argmax(scores.node, r * N, N);
    injected.push({ checkPoint: c.checkPoint, node: c.node, probabilities: scores.cluster.slice(0, rows), topNodes });
    onCase?.(index++);
  }
  return { outcomes: { clean: cleanOutcomes, injected }, cleanStream };
}

/**
 * The threshold that maximizes F1 on a set of outcomes: of the gap of
 * thresholds that all give the best F1, the middle (see `midpointOfGap`),
 * the rule the model's own validation calibration uses too. Used to
 * calibrate baselines on injected TRAINING data, never on the test range.
 */
export function bestF1Threshold(outcomes: ProtocolOutcomes): { threshold: number; counts: Counts } {
  const candidates = new Set<number>();
  for (const c of outcomes.clean) candidates.add(c.probability);
  for (const a of outcomes.injected) {
    let max = -Infinity;
    for (const p of a.probabilities) max = Math.max(max, p);
    candidates.add(max);
  }
  let best: { threshold: number; counts: Counts } | undefined;
  for (const threshold of [...candidates].filter(Number.isFinite).sort((a, b) => b - a)) {
    const counts = countOutcomes(outcomes, threshold);
    if (!best || counts.f1 > best.counts.f1) best = { threshold, counts };
  }
  if (!best) throw new RangeError('bestF1Threshold: no outcomes');
  const threshold = midpointOfGap(candidates, best.threshold);
  return { threshold, counts: countOutcomes(outcomes, threshold) };
}
