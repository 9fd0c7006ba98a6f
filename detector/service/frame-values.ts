/** What the live model and a shadowing version both take from a frame. */
import type { Frame } from '../../common/types.ts';
import type { ClusterState } from '../../model/index.ts';

/** The frame's N × M raw values in the model's modality order; NaN = missing (the model repeats the node's previous sample). */
export function rawValues(frame: Frame, modalities: readonly string[]): Float32Array {
  const m = modalities.length;
  const raw = new Float32Array(frame.nodes.length * m);
  frame.nodes.forEach((node, n) => {
    modalities.forEach((modality, k) => {
      const value = node.values[modality];
      raw[n * m + k] = value === null || value === undefined || !Number.isFinite(value) ? Number.NaN : value;
    });
  });
  return raw;
}

/** Whether a cluster's slow context has seen `warmupTicks` ticks (a state without context counts as warm). */
export function contextWarm(state: ClusterState, warmupTicks: number): boolean {
  return (state.context?.ticks ?? Number.POSITIVE_INFINITY) >= warmupTicks;
}
