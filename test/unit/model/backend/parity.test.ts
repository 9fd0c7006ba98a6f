import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '../../../../common/random.ts';
import { initBackend, type BackendName } from '../../../../model/backend.ts';
import { nativeBindingBuilt } from './native-binding.ts';

/**
 * A fixed model (GRU over each node's window, a graph matMul that mixes
 * neighbours, a dense head) with weights and input drawn from fixed seeds, run
 * forward and backward on every backend this checkout has. The backends must
 * agree within TOLERANCE (absolute): float32 kernels differ only in summation
 * order and in libtensorflow's oneDNN fusions, which stay well below it.
 */
const TOLERANCE = 1e-5;
const NODES = 8;
const WINDOW = 20;
const MODALITIES = 3;
const UNITS = 16;
const OUTPUTS = 4;

interface Result {
  output: Float32Array;
  gradients: Float32Array[];
  loss: number;
}

function seeded(shape: number[], seed: number, scale: number): tf.Tensor {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => rng.normal() * scale),
    shape,
  );
}

/** Row-normalised adjacency of a ring with chords: every node sees itself and 3 others. */
function adjacency(): tf.Tensor2D {
  const a = new Float32Array(NODES * NODES);
  for (let i = 0; i < NODES; i += 1) {
    for (const j of [i, (i + 1) % NODES, (i + NODES - 1) % NODES, (i + 3) % NODES]) a[i * NODES + j] = 0.25;
  }
  return tf.tensor2d(a, [NODES, NODES]);
}

async function runFixedModel(backend: BackendName): Promise<Result> {
  await initBackend({ backend });
  const gru = tf.layers.gru({ units: UNITS, returnSequences: false });
  const head = tf.layers.dense({ units: OUTPUTS, activation: 'tanh' });
  const x = seeded([NODES, WINDOW, MODALITIES], 7, 1);
  const a = adjacency();
  const forward = (): tf.Tensor2D => {
    const h = gru.apply(x) as tf.Tensor2D;
    const mixed = tf.matMul(a, h);
    return head.apply(tf.concat([h, mixed], 1)) as tf.Tensor2D;
  };
  // The first call builds the layers (random initial weights); then fix them.
  tf.dispose(forward());
  const fixWeights = (layer: tf.layers.Layer, seed: number): void => {
    const weights = layer.getWeights().map((w, i) => seeded(w.shape, seed + i, 0.3));
    layer.setWeights(weights);
    tf.dispose(weights);
  };
  fixWeights(gru, 100);
  fixWeights(head, 200);
  const output = tf.tidy(() => forward().dataSync() as Float32Array);
  const variables = [...gru.trainableWeights, ...head.trainableWeights].map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(forward())) as tf.Scalar, variables);
  const result: Result = {
    output,
    loss: value.dataSync()[0],
    gradients: variables.map((v) => grads[v.name].dataSync() as Float32Array),
  };
  tf.dispose([value, ...Object.values(grads), x, a]);
  gru.dispose();
  head.dispose();
  return result;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i])), 0);
}

const others: BackendName[] = nativeBindingBuilt() ? ['wasm', 'tensorflow'] : ['wasm'];

describe(`a fixed model gives the same numbers on cpu and ${others.join(', ')} (±${TOLERANCE})`, () => {
  let reference: Result | undefined;
  const cpuResult = async (): Promise<Result> => (reference ??= await runFixedModel('cpu'));

  // Leave the process on the backend the suite set up (suite-setup.ts), if any.
  const suiteBackend: string | undefined = tf.getBackend();
  afterAll(async () => {
    if (suiteBackend) await tf.setBackend(suiteBackend);
  });

  it('the reference output is not degenerate', async () => {
    const { output, gradients } = await cpuResult();
    expect(output).toHaveLength(NODES * OUTPUTS);
    expect(new Set(Array.from(output, (v) => v.toFixed(3))).size).toBeGreaterThan(NODES);
    expect(gradients.every((g) => g.some((v) => Math.abs(v) > 1e-6))).toBe(true);
  });

  for (const backend of others) {
    it(`${backend}: forward output, loss and every weight gradient match cpu`, async () => {
      const expected = await cpuResult();
      const actual = await runFixedModel(backend);
      expect(tf.getBackend()).toBe(backend);
      expect(maxAbsDiff(actual.output, expected.output)).toBeLessThan(TOLERANCE);
      expect(Math.abs(actual.loss - expected.loss)).toBeLessThan(TOLERANCE);
      actual.gradients.forEach((g, i) => expect(maxAbsDiff(g, expected.gradients[i])).toBeLessThan(TOLERANCE));
    });
  }
});
