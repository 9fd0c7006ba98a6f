import { CHECKPOINT_FORMAT, type ClusterCheckpoint } from '../../../../detector/state/checkpoint.ts';

export type CheckpointOverrides = Partial<Omit<ClusterCheckpoint, 'state'>> & {
  state?: Partial<ClusterCheckpoint['state']>;
};

/**
 * A checkpoint of cluster c1 of network "lab" (nodes 1 and 2, temperature and
 * humidity, window 3, one GRU layer of 2 units), zero state and no alerts;
 * `overrides` set what a test is about, `state` field by field.
 */
export function sampleCheckpoint(overrides: CheckpointOverrides = {}): ClusterCheckpoint {
  const { state, ...rest } = overrides;
  const defaults: ClusterCheckpoint = {
    format: CHECKPOINT_FORMAT,
    network: 'lab',
    cluster: 'c1',
    lastTick: 1000,
    shape: { modalities: ['temperature', 'humidity'], window: 3, gruLayers: 1, gruUnits: 2 },
    state: { nodes: ['1', '2'], windows: new Float32Array(12), hidden: new Float32Array(4), filled: 3 },
    alerts: {},
    savedAt: 1,
  };
  return { ...defaults, ...rest, state: { ...defaults.state, ...state } };
}
