import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../common/config.ts';
import { loadModelToServe } from '../../../../detector/service/load-model.ts';
import { saveDetector } from '../../../../model/io.ts';
import { ensureBackend } from '../../../../model/runtime.ts';
import { pathGraph, tinyConfig, untrainedDetector } from '../../model/helpers.ts';

let dir: string;
const modelConfig = tinyConfig();

beforeAll(async () => {
  await ensureBackend();
  dir = await mkdtemp(path.join(tmpdir(), 'wsn-serve-'));
  await saveDetector(untrainedDetector(modelConfig, pathGraph(3), { seed: 1, threshold: 0.4 }), dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadModelToServe', () => {
  it('loads a model with the clusters per native call the deployment sets', async () => {
    const settings = loadConfig({ env: { WSN_MODEL_CLUSTERS_PER_CALL: '5' } }).detector;
    const model = await loadModelToServe(
      dir,
      { ...settings, modalities: modelConfig.modalities, window: modelConfig.window },
      'tiny',
    );
    expect(model.maxClustersPerCall).toBe(5);
    expect(model.config.modalities).toEqual(modelConfig.modalities);
    model.dispose();
  });

  it('refuses a model whose window is not the configured one, naming the model, and releases its tensors', async () => {
    const settings = loadConfig({ env: {} }).detector;
    const tensorsBefore = tf.memory().numTensors;
    await expect(
      loadModelToServe(
        dir,
        { ...settings, modalities: modelConfig.modalities, window: modelConfig.window + 1 },
        'tiny-v1',
      ),
    ).rejects.toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringContaining('tiny-v1') });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
