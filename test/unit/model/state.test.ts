import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT_CONFIG } from '../../../model/context.ts';
import {
  clusterStateBytes,
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

  it('keeps the context history as float32 beside the float64 scalars, and reads the whole-float64-row JSON of before', () => {
    const state = createClusterState(['a', 'b'], config);
    // 2 nodes × 2 modalities: 19 float64 scalars and sums, 240 float32 history values per row.
    expect(clusterStateBytes(state)).toEqual({
      windows: 2 * 2 * 3 * 4,
      hidden: 2 * 2 * 5 * 4,
      contextScalars: 4 * 19 * 8,
      contextHistory: 4 * 240 * 4,
    });
    state.context!.ticks = 31;
    state.context!.values[0] = 1 / 3;
    state.context!.history[241] = 0.1;
    const json = JSON.parse(JSON.stringify(serializeClusterState(state)));
    expect(deserializeClusterState(json, config)).toEqual(state);
    expect(() => deserializeClusterState({ ...json, context: { ...json.context, history: [1] } }, config)).toThrow(
      /context history has 1 values, expected 960/,
    );

    const rows = Array.from({ length: 4 * 259 }, () => 0);
    rows[0] = 1 / 3;
    rows[259 + 19 + 1] = 0.1;
    const old = deserializeClusterState({ ...json, context: { ticks: 31, values: rows } }, config);
    expect(old.context!.values[0]).toBe(1 / 3);
    expect(old.context!.history[241]).toBe(Math.fround(0.1));
    // After 31 ticks the newest value sits at slot 30: row 1's first segment sums slots 30..1, its 0.1 at slot 1 among them.
    expect(old.context!.values[19 + 11]).toBe(Math.fround(0.1));
    expect(DEFAULT_CONTEXT_CONFIG.segments * DEFAULT_CONTEXT_CONFIG.segmentTicks).toBe(240);
  });
});
