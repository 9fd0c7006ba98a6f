import { describe, expect, it } from 'vitest';
import {
  createClusterState,
  deserializeClusterState,
  pushSample,
  serializeClusterState,
} from '../../../model/state.ts';
import { tinyConfig } from './helpers.ts';

const config = tinyConfig({ window: 3 });

describe('cluster state', () => {
  it('shifts samples in and repeats the last sample for a missing (NaN) value', () => {
    const state = createClusterState(['a', 'b'], config);
    pushSample(state, Float32Array.from([1, 2, 3, 4]), config);
    pushSample(state, Float32Array.from([5, NaN, 7, 8]), config);
    expect(state.filled).toBe(2);
    // Node a, modality 0: the first reading fills the window, then 5; modality 1: the NaN repeats 2.
    expect(Array.from(state.windows.slice(0, 6))).toEqual([1, 1, 5, 2, 2, 2]);
    expect(() => pushSample(state, new Float32Array(3), config)).toThrow(/expected 4 values/);
  });

  it('a node silent at the start gets no step from the empty window into its first reading', () => {
    const state = createClusterState(['a', 'b'], config);
    pushSample(state, Float32Array.from([1, 2, NaN, NaN]), config);
    pushSample(state, Float32Array.from([1, 2, NaN, NaN]), config);
    pushSample(state, Float32Array.from([1, 2, 3.5, 4.5]), config);
    // Node b's windows hold its first reading throughout, not [0, 0, 3.5].
    expect(Array.from(state.windows.slice(6, 12))).toEqual([3.5, 3.5, 3.5, 4.5, 4.5, 4.5]);
  });

  it('survives a JSON round trip and rejects a state of the wrong size', () => {
    const state = createClusterState(['a', 'b'], config);
    pushSample(state, Float32Array.from([1, 2, 3, 4]), config);
    state.hidden[3] = 0.25;
    const json = JSON.parse(JSON.stringify(serializeClusterState(state)));
    expect(deserializeClusterState(json, config)).toEqual(state);
    expect(() => deserializeClusterState({ ...json, hidden: [1, 2] }, config)).toThrow(/hidden has 2 values/);
  });
});
