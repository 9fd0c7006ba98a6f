import type { Modality, NodeId } from '../common/types.ts';

/**
 * A multivariate series of one cluster (or network): `steps` aligned samples
 * of `nodes.length` nodes × `modalities.length` modalities. Layout is
 * time-major: value(t, n, m) = data[(t * N + n) * M + m].
 */
export interface Series {
  nodes: NodeId[];
  modalities: Modality[];
  steps: number;
  data: Float32Array;
  /** Optional event time (UTC ms) or epoch of each step. */
  times?: number[];
}

export function seriesIndex(series: Series, t: number, n: number, m: number): number {
  return (t * series.nodes.length + n) * series.modalities.length + m;
}

/** A deep copy, so injections never touch the original. */
export function cloneSeries(series: Series): Series {
  return {
    ...series,
    nodes: [...series.nodes],
    modalities: [...series.modalities],
    data: series.data.slice(),
    times: series.times ? [...series.times] : undefined,
  };
}
