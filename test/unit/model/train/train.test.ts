import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeStats, normalizeSeries } from '../../../../sources/normalize.ts';
import { ensureBackend } from '../../../../model/runtime.ts';
import { generateSyntheticNetwork } from '../../../../sources/synthetic.ts';
import { trainDetector, type TrainOptions } from '../../../../model/train/train.ts';

beforeAll(async () => {
  await ensureBackend();
});

const network = generateSyntheticNetwork({ nodes: 4, steps: 200, seed: 3, period: 60 });
const stats = computeStats(network.series);
const series = normalizeSeries(network.series, stats);
const options: TrainOptions = {
  seed: 11,
  epochs: 2,
  batchSize: 6,
  validationFraction: 0.35,
  patience: 2,
  sequenceLength: 3,
  windowsPerEpoch: 12,
  stats,
  model: { window: 8, temporalHidden: 8, gatHeads: 2, gatHeadSize: 4, gruUnits: 4, decoderHidden: 8, headHidden: 8 },
};

describe('trainDetector', () => {
  it('is deterministic for a seed and records what it did', async () => {
    const progress: string[] = [];
    const a = await trainDetector(series, network.graph, options, (p) => progress.push(p.phase));
    const b = await trainDetector(series, network.graph, options);
    const weights = async (d: typeof a): Promise<number[][]> =>
      (await d.network.exportWeights()).map((w) => Array.from(w.values));
    expect(await weights(a)).toEqual(await weights(b));
    expect(a.threshold).toBe(b.threshold);
    const training = a.metadata.training!;
    expect(training.seed).toBe(11);
    expect(training.history.length).toBe(training.epochsRun);
    expect(training.history.every((h) => Number.isFinite(h.trainLoss) && Number.isFinite(h.validationLoss))).toBe(true);
    expect(training.validation.injected).toBeGreaterThan(0);
    expect(a.threshold).toBeGreaterThan(0);
    expect(a.threshold).toBeLessThanOrEqual(1);
    expect(a.metadata.normalization?.nodes).toEqual(series.nodes);
    expect(progress).toContain('train');
    expect(progress).toContain('validate');

    const c = await trainDetector(series, network.graph, { ...options, seed: 12 });
    expect(await weights(c)).not.toEqual(await weights(a));
  });

  it('leaves no tensors behind but the trained weights', async () => {
    const before = tf.memory().numTensors;
    const detector = await trainDetector(series, network.graph, { ...options, epochs: 1 });
    expect(tf.memory().numTensors - before).toBe(detector.network.variables.length);
    detector.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a graph that lacks nodes of the series', async () => {
    const graph = {
      nodes: network.graph.nodes.slice(1),
      adjacency: network.graph.adjacency.slice(1).map((row) => row.slice(1)),
    };
    await expect(trainDetector(series, graph, options)).rejects.toThrow(/not in the graph/);
  });
});
