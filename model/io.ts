import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../common/errors.ts';
import { resolveModelConfig } from './config.ts';
import { Detector } from './detector.ts';
import { topologyHash, validateGraph } from './graph.ts';
import { DETECTOR_FORMAT, type DetectorMetadata } from './metadata.ts';
import { DetectorNetwork } from './network.ts';
import { ensureBackend } from './runtime.ts';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** model.json: the TensorFlow.js weights manifest plus the detector's metadata. */
interface ModelJson {
  format: string;
  generatedBy: string;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  metadata: DetectorMetadata;
}

/**
 * Saves a detector as `model.json` (TensorFlow.js weights manifest + metadata)
 * and `weights.bin` (float32 little-endian, manifest order). Files are
 * written beside and renamed, so a crash never leaves half a model.
 */
export async function saveDetector(detector: Detector, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const named: tf.NamedTensorMap = {};
  for (const [name, variable] of detector.network.params.entries) named[name] = variable;
  const { data, specs } = await tf.io.encodeWeights(named);
  const json: ModelJson = {
    format: DETECTOR_FORMAT,
    generatedBy: 'wsn-watch train',
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
    metadata: detector.metadata,
  };
  const weightsPath = path.join(dir, WEIGHTS_FILE);
  const modelPath = path.join(dir, MODEL_FILE);
  await writeFile(`${weightsPath}.tmp`, Buffer.from(data as ArrayBuffer));
  await writeFile(`${modelPath}.tmp`, `${JSON.stringify(json, null, 1)}\n`);
  await rename(`${weightsPath}.tmp`, weightsPath);
  await rename(`${modelPath}.tmp`, modelPath);
}

/** Loads a detector saved by saveDetector; UserError when files are missing or corrupt. */
export async function loadDetector(dir: string): Promise<Detector> {
  const modelPath = path.join(dir, MODEL_FILE);
  const weightsPath = path.join(dir, WEIGHTS_FILE);
  const hint = 'train one with `wsn-watch train --out DIR` or point to a directory holding model.json and weights.bin';
  const text = await readFile(modelPath, 'utf8').catch(() => {
    throw new UserError('MODEL_NOT_FOUND', `no model at ${modelPath}`, hint);
  });
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (error) {
    throw new UserError('MODEL_CORRUPT', `${modelPath} is not valid JSON: ${(error as Error).message}`, hint);
  }
  const corrupt = (what: string): UserError => new UserError('MODEL_CORRUPT', `${modelPath}: ${what}`, hint);
  if (
    typeof json?.format === 'string' &&
    /^wsn-watch-detector\/\d+$/.test(json.format) &&
    json.format !== DETECTOR_FORMAT
  ) {
    // An older (or newer) model: its weights do not fit this network (e.g. /1 has no slow context path).
    throw new UserError(
      'MODEL_OUTDATED',
      `${modelPath} is a model of format ${json.format}; this version of wsn-watch reads ${DETECTOR_FORMAT} (the detector now has a slow context path of level, variance and correlation against the neighbours)`,
      'retrain it with this version: `wsn-watch train … --out DIR` (docs/model.md lists the commands of the shipped models)',
    );
  }
  if (json?.format !== DETECTOR_FORMAT)
    throw corrupt(`format is ${JSON.stringify(json?.format)}, expected ${DETECTOR_FORMAT}`);
  const specs = json.weightsManifest?.[0]?.weights;
  if (!Array.isArray(specs) || specs.length === 0) throw corrupt('weightsManifest lists no weights');
  const metadata = json.metadata;
  let detector: Detector;
  try {
    const config = resolveModelConfig(metadata.config);
    validateGraph(metadata.graph);
    if (typeof metadata.threshold !== 'number' || !(metadata.threshold >= 0 && metadata.threshold <= 1))
      throw new RangeError('threshold must be in [0, 1]');
    if (metadata.topologyHash !== topologyHash(metadata.graph))
      throw new RangeError('topologyHash does not match the stored graph');
    const weights = await readFile(weightsPath).catch(() => {
      throw new UserError('MODEL_NOT_FOUND', `no weights at ${weightsPath}`, hint);
    });
    const expectedBytes = specs.reduce((sum, spec) => sum + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
    if (weights.byteLength !== expectedBytes)
      throw new RangeError(`${WEIGHTS_FILE} has ${weights.byteLength} bytes, the manifest needs ${expectedBytes}`);
    if (specs.some((spec) => spec.dtype !== 'float32')) throw new RangeError('only float32 weights are supported');
    await ensureBackend();
    const buffer = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
    const tensors = tf.io.decodeWeights(buffer, specs);
    const network = new DetectorNetwork(config, 0);
    try {
      network.importWeights(
        await Promise.all(
          Object.entries(tensors).map(async ([name, tensor]) => ({
            name,
            shape: [...tensor.shape],
            values: (await tensor.data()) as Float32Array,
          })),
        ),
      );
    } catch (error) {
      network.dispose();
      throw error;
    } finally {
      tf.dispose(tensors);
    }
    detector = new Detector(network, { ...metadata, config });
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw corrupt((error as Error).message);
  }
  return detector;
}
