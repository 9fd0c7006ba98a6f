import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../../detector/state/checkpoint.ts';
import { loadDetector, type ClusterState } from '../../../model/index.ts';
import { CHECKPOINT_AFTER, STREAM_NODES, STREAM_TICKS, streamTick } from './fixtures/context-stream.ts';

interface GoldenTick {
  t: number;
  cluster: number;
  node: number[];
  reconstruction: number[];
  context?: number[];
}

/** Written by the float64 context history (fixtures/make-context-golden.ts). */
const golden = JSON.parse(readFileSync(new URL('./fixtures/context-golden.json', import.meta.url), 'utf8')) as {
  ticks: GoldenTick[];
  checkpoint: string;
};
const goldenAt = new Map(golden.ticks.map((tick) => [tick.t, tick]));
const model = await loadDetector('models/default');
afterAll(() => model.dispose());

/** Largest absolute difference of two equally long lists. */
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

/** Steps the default model over ticks from..STREAM_TICKS-1 and checks each against the golden run; returns the ticks compared. */
async function compareFrom(state: ClusterState, from: number): Promise<number> {
  let compared = 0;
  for (let t = from; t < STREAM_TICKS; t++) {
    const [out] = await model.step([{ state, values: model.normalizeValues(STREAM_NODES, streamTick(t)) }]);
    const expected = goldenAt.get(t);
    if (!expected) continue;
    // Probabilities and errors within float32 rounding of the float64 history's (it only rounds the PAA's summands).
    expect(Math.abs(out.cluster - expected.cluster)).toBeLessThan(1e-6);
    expect(maxDiff(out.node, expected.node)).toBeLessThan(1e-6);
    expect(maxDiff(out.reconstruction, expected.reconstruction)).toBeLessThan(1e-6);
    if (expected.context) expect(maxDiff(out.context!, expected.context)).toBeLessThan(1e-6);
    compared += 1;
  }
  return compared;
}

describe('the float32 context history against the float64 one (default model, fixed stream)', () => {
  it('scores every tick within float32 rounding of the float64 history', async () => {
    expect(await compareFrom(model.createState(STREAM_NODES), 0)).toBe(STREAM_TICKS - 200);
  });

  it('continues from a checkpoint the float64 history wrote as that code continued', async () => {
    const { state, lastTick } = decodeCheckpoint(golden.checkpoint);
    expect(lastTick).toBe(CHECKPOINT_AFTER);
    expect(await compareFrom(state, CHECKPOINT_AFTER + 1)).toBe(STREAM_TICKS - CHECKPOINT_AFTER - 1);
  });
});
