/**
 * One scorer per cluster of nodes, seen as one network-wide scorer: a window
 * is anomalous when any cluster's scorer says so. Each cluster's
 * probabilities are rescaled so its own threshold lands on 0.5, which makes
 * one threshold (0.5) valid for the combined scores.
 */
import type { Series } from '../../sources/series.ts';
import type { SeriesScorer, SeriesScores } from '../scoring.ts';
import { DEFAULT_ALERT_THRESHOLD } from '../../common/thresholds.ts';

/** The sub-series of some nodes (by index), same steps and modalities. */
export function selectNodes(series: Series, indices: readonly number[]): Series {
  const N = series.nodes.length;
  const M = series.modalities.length;
  const K = indices.length;
  const data = new Float32Array(series.steps * K * M);
  for (let t = 0; t < series.steps; t++) {
    indices.forEach((n, k) => data.set(series.data.subarray((t * N + n) * M, (t * N + n) * M + M), (t * K + k) * M));
  }
  return {
    nodes: indices.map((n) => series.nodes[n]),
    modalities: [...series.modalities],
    steps: series.steps,
    data,
    times: series.times,
  };
}

/** Monotone map of [0, 1] that sends `threshold` to 0.5. */
export function rescale(p: number, threshold: number): number {
  if (threshold <= 0) return p > 0 ? 0.5 + 0.5 * p : 0.5;
  if (threshold >= 1) return p >= 1 ? 0.5 : 0.5 * p;
  return p < threshold ? (0.5 * p) / threshold : 0.5 + (0.5 * (p - threshold)) / (1 - threshold);
}

export interface ClusterMember {
  /** Node indices in the network series. */
  indices: number[];
  scorer: SeriesScorer;
}

export class ClusteredScorer implements SeriesScorer {
  readonly threshold = DEFAULT_ALERT_THRESHOLD;

  constructor(
    readonly name: string,
    readonly members: readonly ClusterMember[],
  ) {}

  async scoreSeries(series: Series, from: number, to: number): Promise<SeriesScores> {
    const N = series.nodes.length;
    const M = series.modalities.length;
    const rows = to - from;
    const cluster = new Float32Array(rows);
    const node = new Float32Array(rows * N);
    const reconstruction = new Float32Array(rows * N * M);
    for (const member of this.members) {
      const scores = await member.scorer.scoreSeries(selectNodes(series, member.indices), from, to);
      const K = member.indices.length;
      const thr = member.scorer.threshold;
      for (let r = 0; r < rows; r++) {
        cluster[r] = Math.max(cluster[r], rescale(scores.cluster[r], thr));
        member.indices.forEach((n, k) => {
          node[r * N + n] = rescale(scores.node[r * K + k], thr);
          reconstruction.set(scores.reconstruction.subarray((r * K + k) * M, (r * K + k) * M + M), (r * N + n) * M);
        });
      }
    }
    return { from, to, cluster, node, reconstruction };
  }
}
