import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type ClusterCheckpoint,
} from '../../../../detector/state/checkpoint.ts';
import { sampleCheckpoint } from './sample-checkpoint.ts';

function checkpoint(context?: { ticks: number; values: Float64Array }): ClusterCheckpoint {
  return sampleCheckpoint({ state: context ? { context } : {} });
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
