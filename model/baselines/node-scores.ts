import type { Series } from '../../sources/series.ts';
import type { SeriesScorer, SeriesScores } from '../scoring.ts';
import { DEFAULT_ALERT_THRESHOLD } from '../../common/thresholds.ts';

/**
 * Turns unbounded per-node scores (rows × N, higher = more anomalous) into
 * SeriesScores: probability p = s / (s + s*), where s* is the calibrated raw
 * threshold, so p ≥ 0.5 exactly when s ≥ s*. The cluster takes its most
 * anomalous node.
 */
export function toSeriesScores(
  raw: Float32Array,
  from: number,
  to: number,
  nodes: number,
  modalities: number,
  rawThreshold: number,
): SeriesScores {
  const rows = to - from;
  const node = new Float32Array(rows * nodes);
  const cluster = new Float32Array(rows);
  const scale = rawThreshold > 0 ? rawThreshold : Number.MIN_VALUE;
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let n = 0; n < nodes; n++) {
      const s = Math.max(0, raw[r * nodes + n]);
      const p = Number.isFinite(s) ? s / (s + scale) : 1;
      node[r * nodes + n] = p;
      if (p > max) max = p;
    }
    cluster[r] = max;
  }
  return { from, to, cluster, node, reconstruction: new Float32Array(rows * nodes * modalities) };
}

/** The probability the calibrated raw threshold maps to. */
export const BASELINE_THRESHOLD = DEFAULT_ALERT_THRESHOLD;

/** A scorer whose decision rests on a raw score threshold that calibration sets. */
export interface CalibratedBaseline {
  /** Raw score at and above which a node counts as anomalous. */
  rawThreshold: number;
}

/** What both baselines take: a trailing history, a floor under the std, a raw threshold. */
export interface BaselineOptions {
  history?: number;
  /** Smallest std, in the series' units (z-scores for a normalized series). Default 0.05. */
  stdFloor?: number;
  /** Raw score threshold (default 4: four standard deviations). */
  rawThreshold?: number;
}

/**
 * A baseline scorer: unbounded raw scores per node (`rawScores`), turned into
 * probabilities around the calibrated raw threshold.
 */
export abstract class BaselineScorer implements SeriesScorer, CalibratedBaseline {
  abstract readonly name: string;
  readonly threshold = BASELINE_THRESHOLD;
  readonly history: number;
  readonly stdFloor: number;
  rawThreshold: number;

  constructor(options: BaselineOptions) {
    this.history = options.history ?? 20;
    this.stdFloor = options.stdFloor ?? 0.05;
    this.rawThreshold = options.rawThreshold ?? 4;
  }

  /** Raw scores (rows × N) of the steps [from, to). */
  abstract rawScores(series: Series, from: number, to: number): Float32Array;

  async scoreSeries(series: Series, from: number, to: number): Promise<SeriesScores> {
    return toSeriesScores(
      this.rawScores(series, from, to),
      from,
      to,
      series.nodes.length,
      series.modalities.length,
      this.rawThreshold,
    );
  }
}
