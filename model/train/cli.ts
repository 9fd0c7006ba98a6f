/**
 * `wsn-watch train`: trains the GNN + GRU detector on IBRL data, a history
 * file or a generated network, and saves model + metadata to --out.
 */
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../../common/errors.ts';
import { loadConfig } from '../../common/config.ts';
import { loadHistory } from '../../sources/history.ts';
import { loadIbrl, readIbrlPositions } from '../../sources/ibrl.ts';
import { loadTopology } from '../../topology/index.ts';
import { computeStats, normalizeSeries, type ModalityStats } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';
import { completeGraph, type ClusterGraph } from '../graph.ts';
import { saveDetector } from '../io.ts';
import type { BackendPreference } from '../runtime.ts';
import { knnGraph } from '../../topology/adjacency.ts';
import { createProgressReporter, formatDuration } from './progress.ts';
import { generateSyntheticNetwork } from '../../sources/synthetic.ts';
import { trainDetector } from './train.ts';
import { TRAINING_DEFAULTS } from './defaults.ts';

export interface TrainCliOptions {
  data?: string;
  format: 'ibrl';
  history?: string;
  tickMs?: number;
  maxGapTicks?: number;
  topology?: string;
  synthetic?: boolean;
  nodes: number;
  steps: number;
  out: string;
  seed: number;
  epochs: number;
  batchSize: number;
  window: number;
  sequenceLength: number;
  learningRate: number;
  validationFraction: number;
  patience: number;
  trainFraction?: number;
  windowsPerEpoch?: number;
  maxMinutes?: number;
  knn: number;
  backend: BackendPreference;
  samples?: number;
  lastEpoch?: number;
}

const integer =
  (flag: string, min: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${flag} needs an integer >= ${min}, got "${value}"`);
    return n;
  };
const fraction =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`${flag} needs a number in (0, 1], got "${value}"`);
    return n;
  };
const positive =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n))
      throw new InvalidArgumentError(`${flag} needs a positive number, got "${value}"`);
    return n;
  };

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description(
      'Train the GNN + GRU anomaly detector (self-supervised: synthetic anomalies are the positives) and save it',
    )
    .option(
      '--data <dir>',
      'data folder to train on (with --format ibrl: readings/<id>.txt and node.txt, e.g. ../shared/data/ibrl)',
    )
    .addOption(new Option('--format <format>', 'format of --data').choices(['ibrl']).default('ibrl'))
    .option(
      '--history <file>',
      'history file to train on: CSV with a header (node,ts,<modality>…) or JSON lines, aligned on a tick',
    )
    .option(
      '--tick-ms <ms>',
      "with --history: tick of the UTC-aligned grid, the same as the ingest's (default: config ingest.tickMs, 31 s)",
      integer('--tick-ms', 1),
    )
    .option(
      '--max-gap-ticks <n>',
      'with --history: gaps of up to n ticks hold the last value (as live); longer gaps, late starts and early ends are rebuilt from the other nodes',
      integer('--max-gap-ticks', 0),
      10,
    )
    .option(
      '--topology <file>',
      'with --history: node positions (IBRL node.txt, .json or .csv) for the k-nearest graph; default: a complete graph',
    )
    .option('--synthetic', 'train on a generated correlated sensor network (daily cycles, 3 modalities)')
    .option('--nodes <n>', 'with --synthetic: number of nodes', integer('--nodes', 2), 12)
    .option('--steps <n>', 'with --synthetic: number of samples', integer('--steps', 100), 2000)
    .requiredOption('--out <dir>', 'directory to write model.json, weights.bin (and nothing else) to')
    .option(
      '--seed <n>',
      'seed of weights, shuffling and injections (same seed and backend = same model)',
      integer('--seed', 0),
      1,
    )
    .option(
      '--epochs <n>',
      'maximum passes over the training windows',
      integer('--epochs', 1),
      TRAINING_DEFAULTS.epochs,
    )
    .option(
      '--batch-size <n>',
      'windows per optimiser step (rounded to whole sequences of --sequence-length)',
      integer('--batch-size', 1),
      TRAINING_DEFAULTS.batchSize,
    )
    .option('--window <n>', 'window length in samples', integer('--window', 2), 20)
    .option(
      '--sequence-length <n>',
      'consecutive windows the GRU is unrolled over (truncated back-propagation)',
      integer('--sequence-length', 1),
      8,
    )
    .option('--learning-rate <x>', 'Adam learning rate', positive('--learning-rate'), 1e-3)
    .option(
      '--validation-fraction <x>',
      'tail of the training data held out for early stopping and threshold calibration',
      fraction('--validation-fraction'),
      TRAINING_DEFAULTS.validationFraction,
    )
    .option(
      '--patience <n>',
      'epochs without validation improvement before stopping',
      integer('--patience', 1),
      TRAINING_DEFAULTS.patience,
    )
    .option(
      '--train-fraction <x>',
      "leading fraction of the data used at all (the rest is left for evaluation); default 0.6 for IBRL (the paper's split), 1 otherwise",
      fraction('--train-fraction'),
    )
    .option(
      '--windows-per-epoch <n>',
      'cap on training windows per epoch (default: all)',
      integer('--windows-per-epoch', 1),
    )
    .option('--max-minutes <x>', 'wall-clock budget; stops early keeping the best weights', positive('--max-minutes'))
    .option(
      '--samples <n>',
      "with --data (IBRL): sample epochs aligned from the first epoch of the paper's range to --last-epoch (default 5000, the paper's)",
      integer('--samples', 100),
    )
    .option(
      '--last-epoch <n>',
      "with --data (IBRL): last epoch of the alignment (default 28675, the paper's); --samples equal to the epoch count gives the network's own 31 s rounds",
      integer('--last-epoch', 1),
    )
    .option('--knn <k>', 'graph: edges from each node to its k nearest nodes', integer('--knn', 1), 4)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .addHelpText(
      'after',
      `
Exactly one of --data, --history or --synthetic. The series is z-normalized with
the statistics of its training part, which are saved with the model.

Examples:
  wsn-watch train --data ../shared/data/ibrl --format ibrl --out models/ibrl --max-minutes 25
  wsn-watch train --synthetic --nodes 12 --steps 2000 --epochs 8 --seed 1 --out models/default`,
    )
    .action(async (options: TrainCliOptions) => {
      await runTrain(options);
    });
}

interface TrainingData {
  series: Series;
  graph: ClusterGraph;
  source: string;
}

async function loadTrainingData(options: TrainCliOptions): Promise<TrainingData> {
  const sources = [options.data, options.history, options.synthetic].filter((v) => v !== undefined && v !== false);
  if (sources.length !== 1)
    throw new UserError(
      'TRAIN_SOURCE',
      'choose exactly one data source',
      'Pass --data DIR --format ibrl, --history FILE or --synthetic.',
    );
  if (options.synthetic) {
    const network = generateSyntheticNetwork({
      nodes: options.nodes,
      steps: options.steps,
      seed: options.seed,
      neighbours: options.knn,
    });
    return {
      series: network.series,
      graph: network.graph,
      source: `synthetic:nodes=${options.nodes},steps=${options.steps},seed=${options.seed}`,
    };
  }
  if (options.history) {
    const dataset = await loadHistory(options.history, {
      tickMs: options.tickMs ?? loadConfig().ingest.tickMs,
      maxGapTicks: options.maxGapTicks,
      onProgress: (message) => process.stderr.write(`train: ${message}\n`),
    });
    const { nodes } = dataset.series;
    if (!options.topology) {
      process.stderr.write('train: no --topology given: every node attends to every other (complete graph)\n');
      return { series: dataset.series, graph: completeGraph(nodes), source: `history:${options.history}` };
    }
    const loaded = loadTopology(options.topology);
    const byId = new Map(loaded.nodes.map((node) => [node.id, node]));
    const missing = nodes.filter((id) => !byId.has(id));
    if (missing.length > 0)
      throw new UserError(
        'TRAIN_POSITIONS',
        `${options.topology} has no position for node(s) ${missing.slice(0, 10).join(', ')}`,
        'Add them to the topology file or leave --topology out (complete graph).',
      );
    const coords = nodes.map((id) => [byId.get(id)!.x, byId.get(id)!.y] as const);
    return {
      series: dataset.series,
      graph: knnGraph(nodes, coords, options.knn),
      source: `history:${options.history}`,
    };
  }
  const dir = options.data as string;
  process.stderr.write(`train: loading IBRL data from ${dir}\n`);
  const dataset = await loadIbrl(dir, {
    samples: options.samples,
    lastEpoch: options.lastEpoch,
    onProgress: (message) => process.stderr.write(`train: ${message}\n`),
  });
  const positions = await readIbrlPositions(dir);
  const missing = dataset.series.nodes.filter((id) => !positions.has(id));
  if (missing.length > 0)
    throw new UserError(
      'TRAIN_POSITIONS',
      `node.txt has no position for mote(s) ${missing.join(', ')}`,
      'Add "id x y" lines for them to node.txt.',
    );
  const coords = dataset.series.nodes.map((id) => {
    const p = positions.get(id) as { x: number; y: number };
    return [p.x, p.y] as const;
  });
  const alignment =
    options.samples !== undefined || options.lastEpoch !== undefined
      ? `,samples=${options.samples ?? 5000},lastEpoch=${options.lastEpoch ?? 28675}`
      : '';
  return {
    series: dataset.series,
    graph: knnGraph(dataset.series.nodes, coords, options.knn),
    source: `ibrl:${dir}${alignment}`,
  };
}

export async function runTrain(options: TrainCliOptions): Promise<void> {
  const data = await loadTrainingData(options);
  const trainFraction = options.trainFraction ?? (options.data ? 0.6 : 1);
  const steps = Math.floor(data.series.steps * trainFraction);
  const nm = data.series.nodes.length * data.series.modalities.length;
  const raw: Series = {
    ...data.series,
    steps,
    data: data.series.data.slice(0, steps * nm),
    times: data.series.times?.slice(0, steps),
  };
  const stats: ModalityStats = computeStats(raw);
  const series = normalizeSeries(raw, stats);
  process.stderr.write(
    `train: ${series.nodes.length} nodes × ${series.modalities.length} modalities (${series.modalities.join(', ')}), ${steps} samples (${Math.round(trainFraction * 100)}% of ${data.series.steps}), window ${options.window}\n`,
  );
  const started = Date.now();
  const detector = await trainDetector(
    series,
    data.graph,
    {
      seed: options.seed,
      epochs: options.epochs,
      batchSize: options.batchSize,
      validationFraction: options.validationFraction,
      patience: options.patience,
      maxMinutes: options.maxMinutes,
      // The budget is the whole command's: it started when the process did (loading the data counts).
      startedAt: Math.round(performance.timeOrigin),
      sequenceLength: options.sequenceLength,
      learningRate: options.learningRate,
      windowsPerEpoch: options.windowsPerEpoch,
      model: { window: options.window },
      stats,
      backend: options.backend,
      dataSource: data.source,
    },
    createProgressReporter(),
  );
  await saveDetector(detector, options.out);
  const training = detector.metadata.training;
  const quality = training?.validation;
  process.stdout.write(
    [
      `saved ${path.join(options.out, 'model.json')} and weights.bin`,
      `backend ${training?.backend}, ${training?.epochsRun} epochs (best ${training?.bestEpoch}, stopped: ${training?.stoppedBecause}) in ${formatDuration((Date.now() - started) / 1000)}, ${training?.windowsPerSecond.toFixed(1)} training windows/s`,
      `threshold ${detector.threshold.toFixed(4)}; validation (${quality?.injected} injected, ${quality?.clean} clean windows): precision ${quality?.precision.toFixed(3)} recall ${quality?.recall.toFixed(3)} F1 ${quality?.f1.toFixed(3)}`,
      '',
    ].join('\n'),
  );
  detector.dispose();
}
