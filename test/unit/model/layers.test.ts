import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../../common/random.ts';
import { Dense, Mlp } from '../../../model/layers/dense.ts';
import { GraphAttention, maskBiasTensor } from '../../../model/layers/graph-attention.ts';
import { GruCell, StackedGru } from '../../../model/layers/gru.ts';
import { ModalityFusion } from '../../../model/layers/fusion.ts';
import { ParamStore } from '../../../model/layers/init.ts';
import { attentionMask } from '../../../model/graph.ts';
import { ensureBackend } from '../../../model/runtime.ts';
import { pathGraph } from './helpers.ts';

beforeAll(async () => {
  await ensureBackend();
});

const params = (): ParamStore => new ParamStore(createRng(7));

describe('layers', () => {
  it('Dense maps [R, in] to [R, out] and, grouped, [G, R, in] to [G, R, out]', () => {
    const store = params();
    expect(new Dense(store, 'a', 5, 3).apply(tf.ones([4, 5])).shape).toEqual([4, 3]);
    expect(new Dense(store, 'b', 5, 3, 'relu', 2).apply(tf.ones([2, 4, 5])).shape).toEqual([2, 4, 3]);
    expect(new Mlp(store, 'c', [5, 7, 2], 'relu', 'linear', 3).apply(tf.ones([3, 4, 5])).shape).toEqual([3, 4, 2]);
    expect(() => new Dense(store, 'd', 5, 3).apply(tf.ones([4, 6]))).toThrow(/expected input \[R, 5\]/);
  });

  it('GraphAttention concatenates heads or averages them', () => {
    const store = params();
    const graph = pathGraph(4);
    const bias = maskBiasTensor([attentionMask(graph.adjacency), attentionMask(graph.adjacency)], 4);
    const h = tf.randomNormal([3, 2, 4, 6], 0, 1, 'float32', 1);
    expect(new GraphAttention(store, 'g1', 3, 6, 2, 5, true, 'elu').apply(h, bias).shape).toEqual([3, 2, 4, 10]);
    expect(new GraphAttention(store, 'g2', 3, 6, 2, 5, false, 'linear').apply(h, bias).shape).toEqual([3, 2, 4, 5]);
  });

  it('GraphAttention attends only along edges and self-loops', () => {
    const store = params();
    const graph = pathGraph(4); // n0 - n1 - n2 - n3
    const bias = maskBiasTensor([attentionMask(graph.adjacency)], 4);
    const layer = new GraphAttention(store, 'g', 1, 3, 2, 4, true, 'elu');
    const base = tf.randomNormal([1, 1, 4, 3], 0, 1, 'float32', 3);
    const out = layer.apply(base, bias);
    const changed = (node: number): tf.Tensor => {
      const delta = tf.buffer([1, 1, 4, 3], 'float32');
      for (let f = 0; f < 3; f++) delta.set(5, 0, 0, node, f);
      return layer.apply(tf.add(base, delta.toTensor()), bias);
    };
    const nodeZero = (t: tf.Tensor): number[] => Array.from(tf.slice(t, [0, 0, 0, 0], [1, 1, 1, -1]).dataSync());
    // n3 is not a neighbour of n0: n0's output must not move.
    expect(nodeZero(changed(3))).toEqual(nodeZero(out));
    expect(nodeZero(changed(2))).toEqual(nodeZero(out));
    // n1 is: it must.
    expect(nodeZero(changed(1))).not.toEqual(nodeZero(out));
  });

  it('GraphAttention computes the GAT formula, head by head, along edges and self-loops', () => {
    const [groups, batch, nodes, inputs, heads, size] = [2, 2, 4, 3, 2, 5];
    const graph = pathGraph(nodes);
    const mask = attentionMask(graph.adjacency);
    const bias = maskBiasTensor([mask, mask], nodes);
    for (const concat of [true, false]) {
      const layer = new GraphAttention(params(), 'g', groups, inputs, heads, size, concat, 'linear');
      // Non-zero biases, so the test also checks where they are added.
      layer.bias.assign(tf.randomNormal(layer.bias.shape, 0, 1, 'float32', 9));
      const h = tf.randomNormal([groups, batch, nodes, inputs], 0, 1, 'float32', 11);
      const out = layer.apply(h, bias).arraySync() as number[][][][];
      const x = h.arraySync() as number[][][][];
      const kernel = layer.kernel.arraySync() as number[][][];
      const target = layer.attendTarget.arraySync() as number[][][][][];
      const source = layer.attendSource.arraySync() as number[][][][][];
      const biases = layer.bias.arraySync() as number[][][][];
      for (let g = 0; g < groups; g++)
        for (let b = 0; b < batch; b++) {
          // z[node][head][d] = x W, per head a slice of the kernel's columns.
          const z = x[g][b].map((row) =>
            Array.from({ length: heads }, (_, k) =>
              Array.from({ length: size }, (_, d) =>
                row.reduce((sum, v, i) => sum + v * kernel[g][i][k * size + d], 0),
              ),
            ),
          );
          const dot = (u: number[], v: number[]): number => u.reduce((sum, value, i) => sum + value * v[i], 0);
          for (let i = 0; i < nodes; i++) {
            const perHead = Array.from({ length: heads }, (_, k) => {
              const near = Array.from({ length: nodes }, (_, j) => j).filter((j) => mask[i * nodes + j] > 0);
              const logits = near.map((j) => {
                const e = dot(target[g][0][0][k], z[i][k]) + dot(source[g][0][0][k], z[j][k]);
                return e > 0 ? e : 0.2 * e;
              });
              const top = Math.max(...logits);
              const weights = logits.map((e) => Math.exp(e - top));
              const total = weights.reduce((sum, w) => sum + w, 0);
              return Array.from({ length: size }, (_, d) =>
                near.reduce((sum, j, t) => sum + (weights[t] / total) * z[j][k][d], 0),
              );
            });
            const expected = concat
              ? perHead.flat()
              : Array.from({ length: size }, (_, d) => perHead.reduce((sum, head) => sum + head[d], 0) / heads);
            expected.forEach((value, c) => expect(out[g][b][i][c]).toBeCloseTo(value + biases[g][0][0][c], 4));
          }
        }
    }
  });

  // Its [G, B, H, N, N] attention tensors are the largest of a model call: they must not wait for the caller's scope.
  it('GraphAttention leaves no tensor behind but its output, and a gradient still flows through it', () => {
    const store = params();
    const graph = pathGraph(4);
    const bias = maskBiasTensor([attentionMask(graph.adjacency)], 4);
    const layer = new GraphAttention(store, 'g', 2, 3, 2, 4, true, 'elu');
    const h = tf.randomNormal([2, 1, 4, 3], 0, 1, 'float32', 5);
    const before = tf.memory().numTensors;
    const out = layer.apply(h, bias);
    expect(tf.memory().numTensors).toBe(before + 1);
    out.dispose();
    const { grads } = tf.variableGrads(() => tf.sum(layer.apply(h, bias)) as tf.Scalar, [layer.kernel]);
    const norm = tf.norm(grads[layer.kernel.name]).dataSync()[0];
    expect(norm).toBeGreaterThan(0);
    expect(Number.isFinite(norm)).toBe(true);
  });

  it('GRU cells keep [R, units] and stack', () => {
    const store = params();
    const cell = new GruCell(store, 'cell', 4, 6);
    expect(cell.apply(tf.ones([3, 4]) as tf.Tensor2D, tf.zeros([3, 6]) as tf.Tensor2D).shape).toEqual([3, 6]);
    const gru = new StackedGru(store, 'gru', 4, 6, 2);
    const result = gru.apply(tf.ones([3, 4]) as tf.Tensor2D, [
      tf.zeros([3, 6]) as tf.Tensor2D,
      tf.zeros([3, 6]) as tf.Tensor2D,
    ]);
    expect(result.output.shape).toEqual([3, 6]);
    expect(result.hidden.map((h) => h.shape)).toEqual([
      [3, 6],
      [3, 6],
    ]);
    // The output is the top layer's new state.
    expect(Array.from(result.output.dataSync())).toEqual(Array.from(result.hidden[1].dataSync()));
  });

  it('ModalityFusion sums per-modality projections: [M, R, F] to [R, F]', () => {
    const fusion = new ModalityFusion(params(), 'fusion', 3, 8);
    const x = tf.randomNormal([3, 5, 8], 0, 1, 'float32', 2) as tf.Tensor3D;
    const out = fusion.apply(x);
    expect(out.shape).toEqual([5, 8]);
    const expected = tf.sum(tf.matMul(x, fusion.weights as tf.Tensor3D), 0);
    expect(tf.max(tf.abs(tf.sub(out, expected))).dataSync()[0]).toBeLessThan(1e-6);
  });
});
