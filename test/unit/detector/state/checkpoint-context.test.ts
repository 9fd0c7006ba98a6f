import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FORMAT,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type ClusterCheckpoint,
} from '../../../../detector/state/checkpoint.ts';

function checkpoint(context?: { ticks: number; values: Float64Array }): ClusterCheckpoint {
  return {
    format: CHECKPOINT_FORMAT,
    network: 'lab',
    cluster: 'c1',
    lastTick: 1000,
    shape: { modalities: ['temperature', 'humidity'], window: 3, gruLayers: 1, gruUnits: 2 },
    state: {
      nodes: ['1', '2'],
      windows: new Float32Array(12),
      hidden: new Float32Array(4),
      filled: 3,
      ...(context ? { context } : {}),
    },
    alerts: {},
    savedAt: 1,
  };
}

describe("checkpoints with the model's slow context", () => {
  it('round-trips the float64 context state exactly', () => {
    const values = Float64Array.from({ length: 2 * 2 * 7 }, (_, i) => Math.PI * i - 1e-12 * i * i);
    const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint({ ticks: 4321, values })));
    expect(decoded.state.context?.ticks).toBe(4321);
    expect(Array.from(decoded.state.context!.values)).toEqual(Array.from(values));
  });

  it('accepts a checkpoint without a context (it starts afresh) and rejects one of a size that does not fit the nodes', () => {
    expect(decodeCheckpoint(encodeCheckpoint(checkpoint())).state.context).toBeUndefined();
    expect(() => decodeCheckpoint(encodeCheckpoint(checkpoint({ ticks: 1, values: new Float64Array(7) })))).toThrow(
      CheckpointError,
    );
    expect(() => decodeCheckpoint(encodeCheckpoint(checkpoint({ ticks: 1, values: new Float64Array(7) })))).toThrow(
      /context has 7 values/,
    );
  });
});
