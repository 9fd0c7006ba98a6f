import { describe, expect, it } from 'vitest';
import { snapshotForBatch } from '../../../../detector/service/batch-snapshot.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import {
  DEFAULT_CONTEXT_CONFIG,
  cloneClusterState,
  contextFeatures,
  contextHistorySize,
  createClusterState,
  stepContext,
  type ClusterState,
  type ClusterStepInput,
  type ClusterStepOutput,
} from '../../../../model/index.ts';
import { testPolicy } from '../alerts/sample-alert.ts';
import { FakeModel, frameOf } from './fake-model.ts';

const T = 31_000;
const config = { modalities: ['temperature', 'humidity'], window: 3, gruLayers: 1, gruUnits: 2 };
const ring = contextHistorySize(DEFAULT_CONTEXT_CONFIG);

/** Steps a state's slow context one tick, as the trained detector does, with every node the others' neighbour. */
function stepSlowContext(state: ClusterState, values: ArrayLike<number>): void {
  const n = state.nodes.length;
  const m = config.modalities.length;
  const neighbours = state.nodes.map((_, i) => state.nodes.map((__, j) => j).filter((j) => j !== i));
  const out = new Float32Array(n * m * contextFeatures(DEFAULT_CONTEXT_CONFIG));
  stepContext(state.context!, values, neighbours, m, DEFAULT_CONTEXT_CONFIG, out);
}

/** The stand-in model, with the slow context stepped (so the history ring is written); fails on a tick when told. */
class ContextModel extends FakeModel {
  failOnStep?: number;
  private steps = 0;

  override async step(batch: ClusterStepInput[]): Promise<ClusterStepOutput[]> {
    this.steps += 1;
    for (const { state, values } of batch) stepSlowContext(state, values);
    if (this.steps === this.failOnStep) throw new Error('model call failed');
    return super.step(batch);
  }
}

function series(cluster: string, count: number, from: number) {
  return Array.from({ length: count }, (_, i) =>
    frameOf(cluster, (from + i) * T, { '1': 1 + ((from + i) % 4), '2': 2 + ((from + i) % 3), '3': from + i }),
  );
}

function expectSameState(actual: ClusterState, expected: ClusterState): void {
  expect(actual.nodes).toEqual(expected.nodes);
  expect(actual.filled).toBe(expected.filled);
  expect(Array.from(actual.windows)).toEqual(Array.from(expected.windows));
  expect(Array.from(actual.hidden)).toEqual(Array.from(expected.hidden));
  expect(actual.context!.ticks).toBe(expected.context!.ticks);
  expect(Array.from(actual.context!.values)).toEqual(Array.from(expected.context!.values));
  expect(Array.from(actual.context!.history)).toEqual(Array.from(expected.context!.history));
}

describe('snapshotForBatch', () => {
  it('shares the history ring and puts back the slots the batch wrote, across the end of the ring', () => {
    const state = createClusterState(['1', '2', '3'], config);
    for (let t = 0; t < 5; t++) stepSlowContext(state, [t, 1, t * 2, 2, -t, 3]);
    state.context!.ticks = ring - 2;
    const expected = cloneClusterState(state);

    const snapshot = snapshotForBatch(state, 4, config.modalities.length);
    expect(snapshot.state.context!.history).toBe(state.context!.history);
    for (let t = 0; t < 4; t++) stepSlowContext(state, [9, 9, 9 - t, 9, 9, t]);
    expect(Array.from(state.context!.history)).not.toEqual(Array.from(expected.context!.history));
    snapshot.restore();
    expectSameState(snapshot.state, expected);
  });

  it('copies the whole ring when the batch goes round it', () => {
    const state = createClusterState(['1', '2'], config);
    const snapshot = snapshotForBatch(state, ring, config.modalities.length);
    expect(snapshot.state.context!.history).not.toBe(state.context!.history);
  });
});

describe('FrameProcessor rollback with the slow context stepped', () => {
  const policy = testPolicy();

  it('a rolled-back batch leaves the state as before, and its redelivery scores the same', async () => {
    const processor = new FrameProcessor({ model: new ContextModel(), policy });
    await processor.process(series('a', 6, 1));
    const before = processor.checkpoint('a').state;
    const failed = await processor.process(series('a', 3, 7));
    failed.rollback();
    expectSameState(processor.checkpoint('a').state, before);
    const again = await processor.process(series('a', 3, 7));
    expect(again.scores).toEqual(failed.scores);
  });

  it('a batch whose model call fails half way leaves the state as before', async () => {
    const model = new ContextModel();
    const processor = new FrameProcessor({ model, policy });
    await processor.process(series('a', 6, 1));
    const before = processor.checkpoint('a').state;
    model.failOnStep = 9; // the third round of the next batch
    await expect(processor.process(series('a', 3, 7))).rejects.toThrow('model call failed');
    expectSameState(processor.checkpoint('a').state, before);
    expect(processor.lastTick('a')).toBe(6 * T);
  });
});
