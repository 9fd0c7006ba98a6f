import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DetectorNetwork } from '../../../model/network.ts';
import { attentionMask } from '../../../model/graph.ts';
import { maskBiasTensor } from '../../../model/layers/graph-attention.ts';
import { ensureBackend } from '../../../model/runtime.ts';
import { pathGraph, tinyConfig } from './helpers.ts';
import { contextFeatures } from '../../../model/context.ts';

beforeAll(async () => {
  await ensureBackend();
});

const config = tinyConfig();
const m = config.modalities.length;
const w = config.window;

function inputs(b: number, n: number, adjacency: number[][], seed: number) {
  return {
    windows: tf.randomNormal([b, n, m, w], 0, 1, 'float32', seed) as tf.Tensor4D,
    maskBias: maskBiasTensor(
      Array.from({ length: b }, () => attentionMask(adjacency)),
      n,
    ),
    nodeMask: tf.ones([b, n]) as tf.Tensor2D,
    hidden: Array.from(
      { length: config.gruLayers },
      (_, i) => tf.randomNormal([b * n, config.gruUnits], 0, 0.5, 'float32', seed + i + 1) as tf.Tensor2D,
    ),
    context: tf.randomNormal([b * n, m * contextFeatures(config.context)], 0, 1, 'float32', seed + 7) as tf.Tensor2D,
  };
}

describe('DetectorNetwork', () => {
  it('gives per-node, per-cluster and reconstruction outputs with the documented shapes', () => {
    const network = new DetectorNetwork(config, 1);
    const out = network.step(inputs(2, 4, pathGraph(4).adjacency, 1));
    expect(out.nodeLogits.shape).toEqual([2, 4]);
    expect(out.clusterLogits.shape).toEqual([2]);
    expect(out.reconstruction.shape).toEqual([2, 4, m, w]);
    expect(out.errors.shape).toEqual([2, 4, m]);
    expect(out.hidden.map((h) => h.shape)).toEqual([
      [8, config.gruUnits],
      [8, config.gruUnits],
    ]);
    // The cluster logit is the max over its nodes.
    const nodes = out.nodeLogits.arraySync() as number[][];
    expect(Array.from(out.clusterLogits.dataSync())).toEqual(
      nodes.map((row) => Math.max(...row)).map((v) => Math.fround(v)),
    );
    network.dispose();
  });

  it('serves clusters of different sizes with the same weights', () => {
    const network = new DetectorNetwork(config, 1);
    expect(network.step(inputs(1, 3, pathGraph(3).adjacency, 2)).nodeLogits.shape).toEqual([1, 3]);
    expect(network.step(inputs(1, 7, pathGraph(7).adjacency, 3)).nodeLogits.shape).toEqual([1, 7]);
    network.dispose();
  });

  it('passes a non-zero gradient to every variable', () => {
    const network = new DetectorNetwork(config, 1);
    const x = inputs(2, 4, pathGraph(4).adjacency, 4);
    const { grads } = tf.variableGrads(() => {
      const first = network.step(x);
      const second = network.step({ ...x, hidden: first.hidden });
      return tf.addN([tf.sum(first.nodeLogits), tf.sum(second.nodeLogits), tf.mean(second.errors)]) as tf.Scalar;
    }, network.variables);
    const names = [...network.params.entries.keys()];
    const zero = names.filter((name, i) => {
      const grad = grads[network.variables[i].name];
      return !grad || tf.max(tf.abs(grad)).dataSync()[0] === 0;
    });
    expect(zero).toEqual([]);
    expect(names.length).toBeGreaterThan(30);
    network.dispose();
  });

  it('keeps a node independent of nodes it has no path to', () => {
    // Two components: {n0, n1} and {n2, n3}. Stacked attention reaches further than
    // one hop, but never across components.
    const adjacency = [
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 1, 0],
    ];
    const network = new DetectorNetwork(config, 2);
    const x = inputs(1, 4, adjacency, 5);
    const base = network.step(x);
    const bump = tf.buffer([1, 4, m, w], 'float32');
    for (let j = 0; j < m; j++) for (let s = 0; s < w; s++) bump.set(3, 0, 3, j, s);
    const moved = network.step({ ...x, windows: tf.add(x.windows, bump.toTensor()) as tf.Tensor4D });
    const node = (t: tf.Tensor, i: number): number[] => Array.from(tf.gather(t.reshape([4, -1]), i).dataSync());
    const rec = (t: tf.Tensor4D, i: number): number[] => Array.from(tf.gather(t.reshape([4, m * w]), i).dataSync());
    expect(node(moved.nodeLogits, 0)).toEqual(node(base.nodeLogits, 0));
    expect(rec(moved.reconstruction, 0)).toEqual(rec(base.reconstruction, 0));
    expect(rec(moved.reconstruction, 2)).not.toEqual(rec(base.reconstruction, 2));
    network.dispose();
  });

  it('initialises the same weights for the same seed and different ones for another', async () => {
    const a = await new DetectorNetwork(config, 5).exportWeights();
    const b = await new DetectorNetwork(config, 5).exportWeights();
    const c = await new DetectorNetwork(config, 6).exportWeights();
    expect(a.map((x) => Array.from(x.values))).toEqual(b.map((x) => Array.from(x.values)));
    expect(a.map((x) => Array.from(x.values))).not.toEqual(c.map((x) => Array.from(x.values)));
  });
});
