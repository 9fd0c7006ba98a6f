import type { Series } from '../sources/series.ts';

/**
 * The scores of the windows ending at steps from..to-1 of a series.
 * Row r refers to the window whose last sample is step from + r.
 */
export interface SeriesScores {
  from: number;
  to: number;
  /** Cluster-level anomaly probability per row: length (to - from). */
  cluster: Float32Array;
  /** Per-node probability: (to - from) × N, row-major. */
  node: Float32Array;
  /** Per-node, per-modality reconstruction error: (to - from) × N × M. Zeros for scorers without reconstruction. */
  reconstruction: Float32Array;
}

/**
 * Anything that scores windows of a normalized series: the GNN + GRU
 * detector and the baselines alike, so the evaluation treats them the same.
 * Scorers with recurrent state warm it up on the steps before `from`
 * (as far back as they need and the series allows).
 */
export interface SeriesScorer {
  readonly name: string;
  /** Probability at or above which a window counts as anomalous. */
  readonly threshold: number;
  scoreSeries(series: Series, from: number, to: number): Promise<SeriesScores>;
}
