/**
 * The IBRL slice the end-to-end suite replays and trains on: eight motes of
 * the lab's north-east corner over 400 sampling rounds (epochs 14285–14684,
 * 2004-03-04 00:00 to about 03:27 UTC), and a small detector trained on them.
 *
 * Why these motes: they report in nearly every round of the slice (no gap
 * longer than 5 rounds, far below the 10-minute silence limit, so a clean
 * replay raises no `silent` alert), and their ids hash (murmur2, as kafkajs
 * and Kafka do) onto all 6 partitions of the readings topic. With every
 * partition carrying a mote, the ingest watermark (the slowest partition)
 * moves with the data and no partition ever has to be declared idle: a live
 * replay then produces no late reading, whatever the interleaving.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../common/config.ts';
import type { Frame } from '../../../common/types.ts';
import { alertPolicyFromConfig } from '../../../detector/alerts/tracker.ts';
import { loadIbrl, readIbrlPositions, type IbrlModality } from '../../../sources/ibrl.ts';
import { computeStats, normalizeSeries } from '../../../sources/normalize.ts';
import {
  DETECTOR_FORMAT,
  ensureBackend,
  loadDetector,
  saveDetector,
  trainDetector,
  type Detector,
} from '../../../model/index.ts';
import { FrameProcessor } from '../../../detector/service/processor.ts';
import { knnGraph } from '../../../topology/adjacency.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The shared IBRL folder, beside the repository (never copied into it). */
export const IBRL_DIR = path.resolve(repoRoot, '../shared/data/ibrl');

export const SLICE_MOTES = ['36', '38', '40', '44', '45', '46', '47', '48'] as const;
export const FIRST_EPOCH = 14285;
export const LAST_EPOCH = 14684;
/** The model's modalities (the paper's: light is not used). */
export const MODALITIES: IbrlModality[] = ['temperature', 'humidity', 'voltage'];
export const WINDOW = 10;

/**
 * The alert policy of the suite. A fixed threshold, not the one stored with
 * the slice model: its validation tail is 109 windows with 15 injected cases,
 * too few to calibrate on. Measured with the level-aware model (detector's
 * FrameProcessor over the frames ingest emits for the slice): calibrated
 * threshold 0.392, but clean ticks reach 0.456, so the stored threshold
 * would flag the clean slice; the surged mote scores 1.000 from its first
 * surged tick and its neighbours at most 0.684 (one tick). 0.7 sits apart
 * from clean data and from the surge. (Clean: with the frames' missing
 * values before a mote's first reading filled with that reading. As the
 * stream comes, motes 38, 45 and 46 have no reading in the first tick, the
 * detector's window holds a placeholder for it, and the first scored tick
 * reaches 0.84-0.89 on them; the detector now fills a silent mote's window with
 * its first reading.)
 *
 * The context's rolling spread of first differences takes each step clipped
 * to a few times the current spread, so a surge's huge steps are forgotten
 * within minutes and the surged mote's alert resolves soon after the surge.
 */
export const SLICE_ALERTS = { threshold: 0.7, alertAfterTicks: 2, resolveAfterTicks: 3 };

/**
 * A folder shaped like the IBRL one (node.txt, readings/<mote>.txt) holding
 * only the slice's motes: node.txt lists their positions, the reading files
 * are symbolic links to the shared ones. `replay ibrl --data` and the
 * topology loader read it as they would read the full set.
 */
export async function sliceFolder(): Promise<{ dir: string; nodeFile: string }> {
  const dir = path.join(tmpdir(), 'wsn-watch-e2e', `ibrl-${SLICE_MOTES.join('-')}`);
  const readings = path.join(dir, 'readings');
  // Idempotent (never removed): another run may be reading it at the same time.
  mkdirSync(readings, { recursive: true });
  const positions = await readIbrlPositions(IBRL_DIR);
  const lines = SLICE_MOTES.map((mote) => {
    const p = positions.get(mote);
    if (!p) throw new Error(`node.txt of ${IBRL_DIR} has no position for mote ${mote}`);
    const link = path.join(readings, `${mote}.txt`);
    if (!existsSync(link)) symlinkSync(path.join(IBRL_DIR, 'readings', `${mote}.txt`), link);
    return `${mote} ${p.x} ${p.y}`;
  });
  const nodeFile = path.join(dir, 'node.txt');
  writeFileSync(nodeFile, lines.join('\n') + '\n');
  return { dir, nodeFile };
}

/** Training settings: small and short, the suite has a budget of minutes on 2 cores. */
const TRAINING = {
  seed: 7,
  epochs: 14,
  batchSize: 64,
  validationFraction: 0.25,
  patience: 4,
  windowsPerEpoch: 2048,
  knn: 3,
  model: { window: WINDOW, temporalHidden: 64, gatHeads: 4, gatHeadSize: 16, decoderHidden: 64, headHidden: 64 },
};

/** The TypeScript files of model/ (relative to the repository, sorted): what trains and runs the slice model. */
function modelSources(): string[] {
  return readdirSync(path.join(repoRoot, 'model'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join('model', file))
    .sort();
}

/**
 * A detector trained with `trainDetector` on the clean slice, one sample per
 * IBRL round (a round is about one 31 s tick, the cadence the streaming
 * detector sees). Cached in the temp folder under a hash of the settings, the
 * data and the model code, so a rerun on the same machine loads it instead of training again.
 */
export async function sliceModel(onProgress: (message: string) => void = () => undefined): Promise<string> {
  const files = await Promise.all(SLICE_MOTES.map((mote) => readFile(path.join(IBRL_DIR, 'readings', `${mote}.txt`))));
  const hash = createHash('sha256').update(
    JSON.stringify({ TRAINING, SLICE_MOTES, FIRST_EPOCH, LAST_EPOCH, MODALITIES, format: DETECTOR_FORMAT }),
  );
  for (const file of files) hash.update(file);
  // The model code too: a change to training or the network must retrain, not reuse a model the old code made.
  for (const file of modelSources()) hash.update(file).update(readFileSync(path.join(repoRoot, file)));
  const dir = path.join(tmpdir(), 'wsn-watch-e2e', `model-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(path.join(dir, 'model.json')) && existsSync(path.join(dir, 'weights.bin'))) return dir;

  await ensureBackend('auto');
  const dataset = await loadIbrl(IBRL_DIR, {
    motes: [...SLICE_MOTES],
    modalities: MODALITIES,
    firstEpoch: FIRST_EPOCH,
    lastEpoch: LAST_EPOCH,
    samples: LAST_EPOCH - FIRST_EPOCH + 1,
  });
  const positions = await readIbrlPositions(IBRL_DIR);
  const coords = dataset.series.nodes.map((id) => {
    const p = positions.get(id) as { x: number; y: number };
    return [p.x, p.y] as const;
  });
  const stats = computeStats(dataset.series);
  const started = Date.now();
  let detector: Detector | undefined;
  try {
    detector = await trainDetector(
      normalizeSeries(dataset.series, stats),
      knnGraph(dataset.series.nodes, coords, TRAINING.knn),
      {
        seed: TRAINING.seed,
        epochs: TRAINING.epochs,
        batchSize: TRAINING.batchSize,
        validationFraction: TRAINING.validationFraction,
        patience: TRAINING.patience,
        windowsPerEpoch: TRAINING.windowsPerEpoch,
        model: TRAINING.model,
        stats,
        dataSource: `ibrl:../shared/data/ibrl motes ${SLICE_MOTES.join(',')} epochs ${FIRST_EPOCH}-${LAST_EPOCH}`,
      },
    );
    // Saved beside and renamed into place, so a concurrent run never loads half a model.
    const staging = `${dir}.${process.pid}.tmp`;
    await saveDetector(detector, staging);
    if (existsSync(dir)) rmSync(staging, { recursive: true, force: true });
    else renameSync(staging, dir);
    onProgress(
      `e2e: trained the slice model in ${((Date.now() - started) / 1000).toFixed(1)} s, calibrated threshold ${detector.threshold.toFixed(3)} (${dir})`,
    );
  } finally {
    detector?.dispose();
  }
  return dir;
}

/**
 * What one uninterrupted detector scores for `frames` (in-process, same model
 * and policy), keyed `cluster@tick`: the reference for restarts and hand-overs.
 */
export async function referenceScores(modelDir: string, frames: Frame[]): Promise<Map<string, number>> {
  await ensureBackend('auto');
  const detector = await loadDetector(modelDir);
  try {
    const config = loadConfig({ env: {} });
    const processor = new FrameProcessor({
      model: detector,
      policy: alertPolicyFromConfig({ ...config, detector: { ...config.detector, ...SLICE_ALERTS } }),
    });
    const { scores } = await processor.process([...frames].sort((a, b) => a.tick - b.tick));
    return new Map(scores.map((score) => [`${score.cluster}@${score.tick}`, score.probability]));
  } finally {
    detector.dispose();
  }
}
