import type { NodeId } from '../../common/types.ts';
import type { Series } from '../../sources/series.ts';
import { BaselineScorer, type BaselineOptions } from './node-scores.ts';
import { median } from '../../common/median.ts';

export interface NeighbourMedianOptions extends BaselineOptions {
  /** Neighbours of each node, by node id (e.g. topology kNN or nearest motes by position). */
  neighbours: ReadonlyMap<NodeId, readonly NodeId[]>;
  /**
   * Trailing samples whose mean residual is subtracted first (default 20), so
   * a slowly changing offset between a node and its neighbours (a sunny
   * corner, a draining battery) is not an anomaly but a sudden break is.
   * 0 compares with the training mean residual instead.
   */
  history?: number;
}

/**
 * Spatial baseline: a node's residual is its value minus the median of its
 * neighbours' values, per modality (on z-scored data, so levels compare);
 * the score is how far the residual jumps from its trailing mean, in
 * standard deviations of that jump on training data, worst modality. Readings that move with the room
 * (weather, the building's heating) cancel out; a node that leaves its
 * neighbours does not.
 */
export class NeighbourMedianScorer extends BaselineScorer {
  readonly name = 'neighbour-median';
  private readonly neighbours: ReadonlyMap<NodeId, readonly NodeId[]>;
  /** Residual mean and std per node id × modality, from training. */
  private residualMean = new Map<NodeId, Float64Array>();
  private residualStd = new Map<NodeId, Float64Array>();

  constructor(options: NeighbourMedianOptions) {
    super(options);
    this.neighbours = options.neighbours;
  }

  private neighbourIndices(series: Series): number[][] {
    const position = new Map(series.nodes.map((id, i) => [id, i]));
    return series.nodes.map((id) =>
      (this.neighbours.get(id) ?? [])
        .map((j) => position.get(j))
        .filter((j): j is number => j !== undefined && j !== position.get(id)),
    );
  }

  /** Residuals (rows × N × M) of the steps [from, to); NaN where a node has no neighbour in the series. */
  residuals(series: Series, from: number, to: number): Float64Array {
    const N = series.nodes.length;
    const M = series.modalities.length;
    const nbrs = this.neighbourIndices(series);
    const out = new Float64Array((to - from) * N * M);
    const buffer: number[] = [];
    for (let t = from; t < to; t++) {
      for (let n = 0; n < N; n++) {
        for (let m = 0; m < M; m++) {
          const k = ((t - from) * N + n) * M + m;
          if (nbrs[n].length === 0) {
            out[k] = NaN;
            continue;
          }
          buffer.length = 0;
          for (const j of nbrs[n]) buffer.push(series.data[(t * N + j) * M + m]);
          out[k] = series.data[(t * N + n) * M + m] - median(buffer);
        }
      }
    }
    return out;
  }

  /**
   * Residuals of [from, to) minus their trailing mean over `history` earlier
   * steps (as many as the series has); plain residuals when history is 0.
   */
  detrended(series: Series, from: number, to: number): Float64Array {
    const L = this.history;
    if (L === 0) return this.residuals(series, from, to);
    const N = series.nodes.length;
    const M = series.modalities.length;
    const start = Math.max(0, from - L);
    const r = this.residuals(series, start, to);
    const out = new Float64Array((to - from) * N * M);
    for (let k = 0; k < N * M; k++) {
      let sum = 0;
      let count = 0;
      for (let t = start; t < to; t++) {
        const v = r[(t - start) * N * M + k];
        if (t >= from) out[(t - from) * N * M + k] = count > 0 ? v - sum / count : 0;
        sum += v;
        count++;
        if (count > L) {
          sum -= r[(t - L - start) * N * M + k];
          count--;
        }
      }
    }
    return out;
  }

  /** Learns each node's residual mean and spread on (normalized) training steps [from, to). */
  fit(train: Series, from = 0, to = train.steps): this {
    const N = train.nodes.length;
    const M = train.modalities.length;
    const r = this.detrended(train, from, to);
    const rows = to - from;
    for (let n = 0; n < N; n++) {
      const mean = new Float64Array(M);
      const std = new Float64Array(M);
      for (let m = 0; m < M; m++) {
        let s = 0;
        let sq = 0;
        for (let t = 0; t < rows; t++) {
          const v = r[(t * N + n) * M + m];
          s += v;
          sq += v * v;
        }
        mean[m] = s / rows;
        std[m] = Math.max(this.stdFloor, Math.sqrt(Math.max(0, sq / rows - mean[m] ** 2)));
      }
      this.residualMean.set(train.nodes[n], mean);
      this.residualStd.set(train.nodes[n], std);
    }
    return this;
  }

  rawScores(series: Series, from: number, to: number): Float32Array {
    const N = series.nodes.length;
    const M = series.modalities.length;
    const r = this.detrended(series, from, to);
    const out = new Float32Array((to - from) * N);
    for (let n = 0; n < N; n++) {
      const mean = this.residualMean.get(series.nodes[n]);
      const std = this.residualStd.get(series.nodes[n]);
      if (!mean || !std)
        throw new Error(`neighbour-median: node ${series.nodes[n]} was not in the training series (call fit first)`);
      for (let t = 0; t < to - from; t++) {
        let worst = 0;
        for (let m = 0; m < M; m++) {
          const v = r[(t * N + n) * M + m];
          if (Number.isNaN(v)) continue;
          worst = Math.max(worst, Math.abs(v - mean[m]) / std[m]);
        }
        out[t * N + n] = worst;
      }
    }
    return out;
  }
}

/** The k nearest nodes of each node by Euclidean position (ties by id order). */
export function nearestNeighbours(
  positions: ReadonlyMap<NodeId, { x: number; y: number }>,
  k: number,
): Map<NodeId, NodeId[]> {
  const ids = [...positions.keys()];
  const out = new Map<NodeId, NodeId[]>();
  for (const id of ids) {
    const p = positions.get(id)!;
    const others = ids
      .filter((j) => j !== id)
      .map((j) => ({ j, d: Math.hypot(positions.get(j)!.x - p.x, positions.get(j)!.y - p.y) }))
      .sort((a, b) => a.d - b.d);
    out.set(
      id,
      others.slice(0, k).map((o) => o.j),
    );
  }
  return out;
}
