/**
 * What `wsn-watch train` does once its flags are parsed: loads the training
 * data (IBRL, a history file or a generated network), z-normalizes its
 * training part, trains the detector and saves it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../../common/errors.ts';
import { loadConfig } from '../../common/config.ts';
import { loadHistory } from '../../sources/history.ts';
import { loadIbrl, readIbrlPositions } from '../../sources/ibrl.ts';
import { loadTopology } from '../../topology/index.ts';
import { computeStats, normalizeSeries, type ModalityStats } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';
import { DEFAULT_MODEL_CONFIG } from '../config.ts';
import { DEFAULT_CONTEXT_CONFIG, type ContextConfig } from '../context.ts';
import { completeGraph, type ClusterGraph } from '../graph.ts';
import type { Detector } from '../detector.ts';
import { saveDetector } from '../io.ts';
import { ModelRegistry, registryDir, type RegisterInput } from '../registry/store.ts';
import type { BackendPreference } from '../runtime.ts';
import { knnGraph } from '../../topology/adjacency.ts';
import { createProgressReporter, formatDuration } from './progress.ts';
import { generateSyntheticNetwork } from '../../sources/synthetic.ts';
import { trainDetector } from './train.ts';

/** The parsed flags of `wsn-watch train`. */
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
  /** With --synthetic: share of readings lost in the radio (held, as ingest holds them). */
  loss?: number;
  /** Folder to save the model to; with `register` alone it goes only into the registry. */
  out?: string;
  register?: boolean;
  parent?: string;
  seed: number;
  epochs: number;
  batchSize: number;
  window: number;
  /** PAA of the slow context path: segments (0 = none) × ticks per segment, stored in the model's config. */
  paaSegments?: number;
  paaSegmentTicks?: number;
  /** Graph attention of the first layers: heads × features per head, stored in the model's config. */
  attentionHeads?: number;
  attentionHeadSize?: number;
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
  falseAlerts: number;
}

/** A series to train on, its graph and where it came from (recorded with the model). */
export interface TrainingData {
  series: Series;
  graph: ClusterGraph;
  source: string;
}

/** How a trained model is registered when it comes from elsewhere than `train` (e.g. `retrain`). */
export type Registration = Pick<RegisterInput, 'origin' | 'parent' | 'dataRange' | 'note' | 'exclusions'> & {
  /** Default: config network. */
  network?: string;
  /** The registry folder; default: config registry.dir. */
  registry?: string;
};

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
      lossRate: options.loss,
    });
    const loss = options.loss ? `,loss=${options.loss}` : '';
    return {
      series: network.series,
      graph: network.graph,
      source: `synthetic:nodes=${options.nodes},steps=${options.steps},seed=${options.seed}${loss}`,
    };
  }
  if (options.history) {
    const dataset = await loadHistory(options.history, {
      tickMs: options.tickMs ?? loadConfig().ingest.tickMs,
      maxGapTicks: options.maxGapTicks,
      onProgress: (message) => process.stderr.write(`train: ${message}\n`),
    });
    const graph = historyGraph(dataset.series.nodes, options.topology, options.knn, (message) =>
      process.stderr.write(`train: ${message}\n`),
    );
    return { series: dataset.series, graph, source: `history:${options.history}` };
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

/** The slow context path's config with the PAA flags applied (the defaults elsewhere). */
function contextConfig(options: TrainCliOptions): ContextConfig {
  return {
    ...DEFAULT_CONTEXT_CONFIG,
    segments: options.paaSegments ?? DEFAULT_CONTEXT_CONFIG.segments,
    segmentTicks: options.paaSegmentTicks ?? DEFAULT_CONTEXT_CONFIG.segmentTicks,
  };
}

export async function runTrain(options: TrainCliOptions): Promise<void> {
  if (!options.out && !options.register)
    throw new UserError('TRAIN_NO_OUTPUT', 'say where the model goes: --out DIR, --register, or both');
  await trainOn(await loadTrainingData(options), options);
}

/**
 * Trains on `data` with the training flags of `options`, saves to --out
 * and/or registers it (with `registration` overriding what `train` records),
 * and prints where the model went and how it did on stdout.
 */
export async function trainOn(
  data: TrainingData,
  options: TrainCliOptions,
  registration?: Registration,
): Promise<void> {
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
    `train: ${series.nodes.length} nodes × ${series.modalities.length} modalities (${series.modalities.join(', ')}), ${steps} samples (${Math.round(trainFraction * 100)}% of ${data.series.steps}), window ${options.window}, attention ${options.attentionHeads ?? DEFAULT_MODEL_CONFIG.gatHeads} × ${options.attentionHeadSize ?? DEFAULT_MODEL_CONFIG.gatHeadSize}, PAA ${contextConfig(options).segments} × ${contextConfig(options).segmentTicks} ticks\n`,
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
      model: {
        window: options.window,
        context: contextConfig(options),
        gatHeads: options.attentionHeads ?? DEFAULT_MODEL_CONFIG.gatHeads,
        gatHeadSize: options.attentionHeadSize ?? DEFAULT_MODEL_CONFIG.gatHeadSize,
      },
      stats,
      backend: options.backend,
      dataSource: data.source,
      falseAlertsPerNodeDay: options.falseAlerts,
      // The budget is per day of the live detector's ticks.
      tickMs: options.tickMs ?? loadConfig().ingest.tickMs,
    },
    createProgressReporter(),
  );
  const saved = await saveAndRegister(
    detector,
    options,
    { steps, times: data.series.times?.slice(0, steps) },
    registration,
  );
  const training = detector.metadata.training;
  const quality = training?.validation;
  process.stdout.write(
    [
      ...saved,
      `backend ${training?.backend}, ${training?.epochsRun} epochs (best ${training?.bestEpoch}, stopped: ${training?.stoppedBecause}) in ${formatDuration((Date.now() - started) / 1000)}, ${training?.windowsPerSecond.toFixed(1)} training windows/s`,
      `threshold ${detector.threshold.toFixed(4)}: the higher of ${quality?.threshold.toFixed(4)} (best F1 on validation: ${quality?.injected} injected, ${quality?.clean} clean windows; precision ${quality?.precision.toFixed(3)} recall ${quality?.recall.toFixed(3)} F1 ${quality?.f1.toFixed(3)}) and ${quality?.falseAlerts?.threshold.toFixed(4)} (at most ${options.falseAlerts} false alerts per node-day: ${quality?.falseAlerts?.excursions} clean excursions above ${quality?.falseAlerts?.level.toFixed(3)})`,
      '',
    ].join('\n'),
  );
  detector.dispose();
}

/** Saves to --out and/or registers a new version; returns the lines saying where the model went. */
async function saveAndRegister(
  detector: Detector,
  options: TrainCliOptions,
  trained: { steps: number; times: number[] | undefined },
  registration: Registration = { origin: 'train', parent: options.parent },
): Promise<string[]> {
  const { times } = trained;
  const lines: string[] = [];
  const dir = options.out ?? (await mkdtemp(path.join(tmpdir(), 'wsn-watch-train-')));
  await saveDetector(detector, dir);
  if (options.out) lines.push(`saved ${path.join(options.out, 'model.json')} and weights.bin`);
  if (!options.register) return lines;
  try {
    const config = loadConfig();
    const registry = new ModelRegistry(registration.registry ?? registryDir(config));
    const { registry: _folder, ...input } = registration;
    const version = await registry.register({
      from: dir,
      ...input,
      network: registration.network ?? config.network,
      dataRange: {
        from: times?.length ? new Date(times[0]).toISOString() : null,
        to: times?.length ? new Date(times[times.length - 1]).toISOString() : null,
        samples: trained.steps,
        ...registration.dataRange,
      },
    });
    lines.push(
      `registered ${version.id} (network ${version.network}, parent ${version.parent ?? 'none'}) in ${registry.shownFolder(version)}; promote it with \`wsn-watch model promote ${version.id}\``,
    );
  } finally {
    if (!options.out) await rm(dir, { recursive: true, force: true });
  }
  return lines;
}

/**
 * The graph of a history's nodes: k nearest neighbours by the positions in
 * the topology file, or, without one, the complete graph (said on `say`).
 * A node the file has no position for is refused, naming it.
 */
export function historyGraph(
  nodes: string[],
  topology: string | undefined,
  knn: number,
  say: (message: string) => void,
): ClusterGraph {
  if (!topology) {
    say('no --topology given: every node attends to every other (complete graph)');
    return completeGraph(nodes);
  }
  const byId = new Map(loadTopology(topology).nodes.map((node) => [node.id, node]));
  const missing = nodes.filter((id) => !byId.has(id));
  if (missing.length > 0)
    throw new UserError(
      'TRAIN_POSITIONS',
      `${topology} has no position for node(s) ${missing.slice(0, 10).join(', ')}`,
      'Add them to the topology file or leave --topology out (complete graph).',
    );
  const coords = nodes.map((id) => [byId.get(id)!.x, byId.get(id)!.y] as const);
  return knnGraph(nodes, coords, knn);
}
