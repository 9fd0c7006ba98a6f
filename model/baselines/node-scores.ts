import type { SeriesScores } from '../scoring.ts';

/**
 * Turns unbounded per-node scores (rows × N, higher = more anomalous) into
 * SeriesScores: probability p = s / (s + s*), where s* is the calibrated raw
 * threshold, so p ≥ 0.5 exactly when s ≥ s*. The cluster takes its most
 * anomalous node.
 */
export function toSeriesScores(raw: Float32Array, from: number, to: number, nodes: number, modalities: number, rawThreshold: number): SeriesScores {
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
export const BASELINE_THRESHOLD = 0.5;

/** A scorer whose decision rests on a raw score threshold that calibration sets. */
export interface CalibratedBaseline {
  /** Raw score at and above which a node counts as anomalous. */
  rawThreshold: number;
}
