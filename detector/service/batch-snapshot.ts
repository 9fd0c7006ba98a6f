import { cloneClusterState, type ClusterState } from '../../model/index.ts';

/**
 * A cluster's model state as it was before a batch, for the batch's rollback.
 *
 * The context's history ring is most of a cluster's memory (240 float32 per
 * node × modality), and a tick writes one slot of it per row (the slot at
 * `ticks % ring`) and nothing else. So instead of copying the ring, the
 * snapshot shares it with the live state and keeps only the slots the
 * batch's `frames` ticks can write; `restore` puts them back. Everything else
 * (windows, GRU state, context scalars) is copied, as it changes every tick.
 * A state the batch replaces (resized, swapped, rebuilt) is left untouched
 * by the steps, so restoring its slots is harmless.
 */
export interface BatchSnapshot {
  state: ClusterState;
  /** Writes the saved ring slots back into the shared ring (call before putting `state` back in place). */
  restore(): void;
}

/** `modalities`: the model's modality count (the ring has a row per node × modality). */
export function snapshotForBatch(state: ClusterState, frames: number, modalities: number): BatchSnapshot {
  const { context } = state;
  const rows = state.nodes.length * modalities;
  const ring = context && rows > 0 ? context.history.length / rows : 0;
  // Without a ring to share, or with a batch long enough to go round it, a full copy costs no more.
  if (!context || ring === 0 || !Number.isInteger(ring) || frames >= ring)
    return { state: cloneClusterState(state), restore: () => undefined };
  const { history } = context;
  const slots = Array.from({ length: frames }, (_, i) => (context.ticks + i) % ring);
  const saved = new Float32Array(rows * frames);
  for (let row = 0; row < rows; row++)
    for (let i = 0; i < frames; i++) saved[row * frames + i] = history[row * ring + slots[i]];
  return {
    state: {
      nodes: [...state.nodes],
      windows: state.windows.slice(),
      hidden: state.hidden.slice(),
      filled: state.filled,
      context: { ticks: context.ticks, values: context.values.slice(), history },
    },
    restore: () => {
      for (let row = 0; row < rows; row++)
        for (let i = 0; i < frames; i++) history[row * ring + slots[i]] = saved[row * frames + i];
    },
  };
}
