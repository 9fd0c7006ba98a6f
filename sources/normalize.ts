import type { Modality, NodeId } from '../common/types.ts';
import { type Series, cloneSeries } from './series.ts';

/**
 * Per node × modality statistics of a training slice: what the z-score uses
 * (mean, std) and what the synthetic anomalies are sized by (min, max, range).
 * Arrays are node-major: entry (n, m) sits at n * M + m.
 *
 * The `modality*` arrays pool every node of a modality. They serve as the
 * fallback for a node that never varied (or was absent) in training, and as
 * the "range of the modality" the GLSL injections add or ramp by.
 */
export interface ModalityStats {
  nodes: NodeId[];
  modalities: Modality[];
  mean: Float64Array;
  std: Float64Array;
  min: Float64Array;
  max: Float64Array;
  modalityMean: Float64Array;
  modalityStd: Float64Array;
  modalityMin: Float64Array;
  modalityMax: Float64Array;
}

export interface StatsOptions {
  /** First step of the training slice (inclusive). Default 0. */
  from?: number;
  /** Last step of the training slice (exclusive). Default series.steps. */
  to?: number;
  /**
   * Smallest std used for scaling, as a fraction of the modality's pooled std.
   * A node whose training values are (nearly) constant would otherwise divide
   * by ~0 and turn any later wiggle into an enormous z-score. Default 0.01.
   */
  relativeStdFloor?: number;
  /** Absolute smallest std. Default 1e-6. */
  absoluteStdFloor?: number;
}

/** Statistics of steps [from, to) of a series, computed in float64. */
export function computeStats(series: Series, options: StatsOptions = {}): ModalityStats {
  const N = series.nodes.length;
  const M = series.modalities.length;
  const from = options.from ?? 0;
  const to = options.to ?? series.steps;
  if (!(from >= 0 && to <= series.steps && to > from)) {
    throw new RangeError(`computeStats: slice [${from}, ${to}) is empty or outside the series (${series.steps} steps)`);
  }
  const count = to - from;
  const sum = new Float64Array(N * M);
  const sumSq = new Float64Array(N * M);
  const min = new Float64Array(N * M).fill(Infinity);
  const max = new Float64Array(N * M).fill(-Infinity);
  const { data } = series;
  for (let t = from; t < to; t++) {
    const base = t * N * M;
    for (let k = 0; k < N * M; k++) {
      const v = data[base + k];
      sum[k] += v;
      sumSq[k] += v * v;
      if (v < min[k]) min[k] = v;
      if (v > max[k]) max[k] = v;
    }
  }
  const mean = new Float64Array(N * M);
  const rawStd = new Float64Array(N * M);
  for (let k = 0; k < N * M; k++) {
    mean[k] = sum[k] / count;
    rawStd[k] = Math.sqrt(Math.max(0, sumSq[k] / count - mean[k] * mean[k]));
  }

  const modalityMean = new Float64Array(M);
  const modalityStd = new Float64Array(M);
  const modalityMin = new Float64Array(M).fill(Infinity);
  const modalityMax = new Float64Array(M).fill(-Infinity);
  for (let m = 0; m < M; m++) {
    let s = 0;
    let sq = 0;
    for (let n = 0; n < N; n++) {
      s += sum[n * M + m];
      sq += sumSq[n * M + m];
      modalityMin[m] = Math.min(modalityMin[m], min[n * M + m]);
      modalityMax[m] = Math.max(modalityMax[m], max[n * M + m]);
    }
    const total = count * N;
    modalityMean[m] = s / total;
    modalityStd[m] = Math.sqrt(Math.max(0, sq / total - modalityMean[m] ** 2));
  }

  const relativeFloor = options.relativeStdFloor ?? 0.01;
  const absoluteFloor = options.absoluteStdFloor ?? 1e-6;
  const std = new Float64Array(N * M);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const k = n * M + m;
      const floor = Math.max(absoluteFloor, relativeFloor * modalityStd[m]);
      // A node that never varied falls back to the modality's pooled spread.
      std[k] = rawStd[k] >= floor ? rawStd[k] : Math.max(floor, modalityStd[m] || absoluteFloor);
    }
  }
  for (let m = 0; m < M; m++) modalityStd[m] = Math.max(modalityStd[m], absoluteFloor);

  return {
    nodes: [...series.nodes],
    modalities: [...series.modalities],
    mean,
    std,
    min,
    max,
    modalityMean,
    modalityStd,
    modalityMin,
    modalityMax,
  };
}

/** The range (max − min) of a modality over all nodes of the training slice: the size GLSL's injections use. */
export function modalityRange(stats: ModalityStats, modality: number): number {
  return stats.modalityMax[modality] - stats.modalityMin[modality];
}

function statsIndexFor(series: Series, stats: ModalityStats): number[] {
  // Map series nodes to stats nodes by id, so a cluster's sub-series can use
  // statistics computed on the whole network.
  const position = new Map(stats.nodes.map((id, i) => [id, i]));
  if (
    series.modalities.length !== stats.modalities.length ||
    series.modalities.some((m, i) => m !== stats.modalities[i])
  ) {
    throw new Error(
      `normalize: series modalities [${series.modalities.join(', ')}] differ from the statistics' [${stats.modalities.join(', ')}]`,
    );
  }
  return series.nodes.map((id) => {
    const i = position.get(id);
    if (i === undefined) throw new Error(`normalize: node ${id} has no training statistics`);
    return i;
  });
}

function transform(series: Series, stats: ModalityStats, forward: boolean): Series {
  const N = series.nodes.length;
  const M = series.modalities.length;
  const map = statsIndexFor(series, stats);
  const out = cloneSeries(series);
  const d = out.data;
  for (let t = 0; t < series.steps; t++) {
    for (let n = 0; n < N; n++) {
      const s = map[n] * M;
      const base = (t * N + n) * M;
      for (let m = 0; m < M; m++) {
        d[base + m] = forward
          ? (d[base + m] - stats.mean[s + m]) / stats.std[s + m]
          : d[base + m] * stats.std[s + m] + stats.mean[s + m];
      }
    }
  }
  return out;
}

/** z-score every value with its node × modality training mean and std (a copy). */
export function normalizeSeries(series: Series, stats: ModalityStats): Series {
  return transform(series, stats, true);
}

/** Inverse of normalizeSeries (a copy). */
export function denormalizeSeries(series: Series, stats: ModalityStats): Series {
  return transform(series, stats, false);
}

/** Stats of a subset of nodes (by id), e.g. one cluster, keeping the network-wide modality pools. */
export function selectStats(stats: ModalityStats, nodes: readonly NodeId[]): ModalityStats {
  const M = stats.modalities.length;
  const position = new Map(stats.nodes.map((id, i) => [id, i]));
  const pick = (source: Float64Array): Float64Array => {
    const out = new Float64Array(nodes.length * M);
    nodes.forEach((id, j) => {
      const i = position.get(id);
      if (i === undefined) throw new Error(`selectStats: node ${id} has no statistics`);
      out.set(source.subarray(i * M, i * M + M), j * M);
    });
    return out;
  };
  return {
    ...stats,
    nodes: [...nodes],
    mean: pick(stats.mean),
    std: pick(stats.std),
    min: pick(stats.min),
    max: pick(stats.max),
  };
}
