import type { SeriesScores } from '../../../../model/scoring.ts';
import type { Series } from '../../../../sources/series.ts';

/**
 * The scores of steps [from, to) that the evaluation tests' fake scorers give:
 * each node scored by `nodeScore` from its readings at the step (the last
 * sample of the window ending there), the cluster by its highest node, no
 * reconstruction.
 */
export function lastSampleScores(
  series: Series,
  from: number,
  to: number,
  nodeScore: (readings: Float32Array) => number,
): SeriesScores {
  const N = series.nodes.length;
  const M = series.modalities.length;
  const rows = to - from;
  const node = new Float32Array(rows * N);
  const cluster = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      const at = ((from + r) * N + n) * M;
      node[r * N + n] = nodeScore(series.data.subarray(at, at + M));
      cluster[r] = Math.max(cluster[r], node[r * N + n]);
    }
  }
  return { from, to, cluster, node, reconstruction: new Float32Array(rows * N * M) };
}

/** The largest absolute reading. */
export const largestMagnitude = (readings: Float32Array): number =>
  readings.reduce((worst, value) => Math.max(worst, Math.abs(value)), 0);
