import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type ClusterCheckpoint,
} from '../../../../detector/state/checkpoint.ts';
import type { ContextState } from '../../../../model/index.ts';
import { sampleCheckpoint } from './sample-checkpoint.ts';

function checkpoint(context?: ContextState): ClusterCheckpoint {
  return sampleCheckpoint({ state: context ? { context } : {} });
}

/** The sample checkpoint's JSON with its context as the layout before the float32 history wrote it: whole float64 rows. */
function float64RowsCheckpoint(ticks: number, rows: Float64Array): string {
  const json = JSON.parse(encodeCheckpoint(checkpoint())) as { state: Record<string, unknown> };
  json.state.context = { ticks, values: Buffer.from(rows.buffer).toString('base64') };
  return JSON.stringify(json);
}

describe("checkpoints with the model's slow context", () => {
  it('round-trips the float64 scalars and the float32 history exactly', () => {
    const values = Float64Array.from({ length: 2 * 2 * 7 }, (_, i) => Math.PI * i - 1e-12 * i * i);
    const history = Float32Array.from({ length: 2 * 2 * 5 }, (_, i) => Math.E * i - 0.1);
    const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint({ ticks: 4321, values, history })));
    expect(decoded.state.context?.ticks).toBe(4321);
    expect(Array.from(decoded.state.context!.values)).toEqual(Array.from(values));
    expect(Array.from(decoded.state.context!.history)).toEqual(Array.from(history));
  });

  it('accepts a checkpoint without a context (it starts afresh) and rejects one of a size that does not fit the nodes', () => {
    expect(decodeCheckpoint(encodeCheckpoint(checkpoint())).state.context).toBeUndefined();
    const odd = checkpoint({ ticks: 1, values: new Float64Array(7), history: new Float32Array(4) });
    expect(() => decodeCheckpoint(encodeCheckpoint(odd))).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(encodeCheckpoint(odd))).toThrow(/context has 7 values/);
    const oddHistory = checkpoint({ ticks: 1, values: new Float64Array(8), history: new Float32Array(6) });
    expect(() => decodeCheckpoint(encodeCheckpoint(oddHistory))).toThrow(/and 6 of history, not a whole row/);
  });

  it('splits a context of whole float64 rows (written before the float32 history) into scalars and history', () => {
    // 2 nodes × 2 modalities, rows of the default settings: 19 scalars and sums, then 240 history values.
    const rows = new Float64Array(4 * 259);
    for (let k = 0; k < 4; k++) for (let a = 0; a < 240; a++) rows[k * 259 + 19 + a] = k + a / 1000 + 1e-12;
    rows[0] = 0.125; // a scalar, kept exactly
    const { context } = decodeCheckpoint(float64RowsCheckpoint(245, rows)).state;
    expect(context!.ticks).toBe(245);
    expect(context!.values.length).toBe(4 * 19);
    expect(context!.values[0]).toBe(0.125);
    expect(context!.history[240 + 7]).toBe(Math.fround(1.007));
    // After 245 ticks the newest value sits at slot 4: the first segment sums slots 4..0 and 239..215.
    const slots = [...Array.from({ length: 5 }, (_, i) => 4 - i), ...Array.from({ length: 25 }, (_, i) => 239 - i)];
    const expected = slots.reduce((sum, slot) => sum + Math.fround(1 + slot / 1000 + 1e-12), 0);
    expect(context!.values[19 + 11]).toBeCloseTo(expected, 12);
  });

  it('drops an old-layout context whose rows are not of the default settings (it starts afresh)', () => {
    expect(decodeCheckpoint(float64RowsCheckpoint(3, new Float64Array(4 * 30))).state.context).toBeUndefined();
  });

  it('restores the checkpoint the float64 history wrote for the default model', () => {
    const golden = JSON.parse(
      readFileSync(new URL('../../model/fixtures/context-golden.json', import.meta.url), 'utf8'),
    ) as { checkpoint: string };
    const { state } = decodeCheckpoint(golden.checkpoint);
    expect(state.context!.ticks).toBe(271);
    expect(state.context!.values.length).toBe(6 * 3 * 19);
    expect(state.context!.history.length).toBe(6 * 3 * 240);
  });
});
