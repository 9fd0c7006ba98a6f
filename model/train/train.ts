import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../../common/random.ts';
import { PAPER_INJECTION_SAMPLES } from '../../sources/fault-catalogue.ts';
import { PAPER_POINT_KINDS, affectedSpan, paperKind, injectAnomaly, type Injection } from '../../sources/inject.ts';
import { computeStats, denormalizeSeries, normalizeSeries, type ModalityStats } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';
import { resolveModelConfig, type ModelConfig } from '../config.ts';
import { Detector } from '../detector.ts';
import { attentionMask, subgraph, topologyHash, validateGraph, type ClusterGraph } from '../graph.ts';
import { MASKED_LOGIT } from '../layers/graph-attention.ts';
import type { DetectorMetadata, EpochRecord, NormalizationStats, ValidationQuality } from '../metadata.ts';
import { DETECTOR_FORMAT } from '../metadata.ts';
import { DetectorNetwork, centerWindows } from '../network.ts';
import { ensureBackend, type BackendPreference } from '../runtime.ts';
import { calibrateThreshold } from './calibrate.ts';
import { falseAlertThreshold } from './false-alert-threshold.ts';
import { createTrainingInjector } from './injections.ts';
import { sequenceSegment, writeContext, writeNodeLabels, writeWindowFlags, writeWindows } from './sequences.ts';
import { buildFaultyCopy, faultCopyPlan, type FaultyCopy } from './fault-copies.ts';
import { computeContext, contextFeatures } from '../context.ts';
import { DAY_MS } from '../../common/constants.ts';
import { DEFAULT_ALERT_THRESHOLD } from '../../common/thresholds.ts';

export interface TrainOptions {
  seed: number;
  /** Upper bound on passes over the training windows. */
  epochs: number;
  /** Windows per optimiser step, rounded to whole sequences of `sequenceLength` consecutive windows (at least one). */
  batchSize: number;
  /** The last fraction of the time axis held out for validation, early stopping and threshold calibration. */
  validationFraction: number;
  /** Epochs without validation improvement before stopping. */
  patience: number;
  /** Wall-clock budget; training stops (keeping the best weights) when the next epoch would not fit. */
  maxMinutes?: number;
  /** When the budget started (ms since the epoch); default: when trainDetector is called. The CLI passes its own start, so loading counts too. */
  startedAt?: number;
  /** Consecutive windows per sequence: the GRU is unrolled (truncated back-propagation) over these. Default 8. */
  sequenceLength?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Fraction of sequences that receive a synthetic anomaly. Default 0.5. */
  injectionRate?: number;
  /** Cap on training windows per epoch (default: every window once). */
  windowsPerEpoch?: number;
  /** Weight of the reconstruction loss next to the classification losses. Default 1. */
  reconstructionWeight?: number;
  /** Weight of anomalous nodes in the per-node cross-entropy (they are rare). Default 4. */
  positiveNodeWeight?: number;
  /** Model hyper-parameters (modalities come from the series). */
  model?: Partial<Omit<ModelConfig, 'modalities'>>;
  /**
   * Raw-unit statistics of the training data (the ones the series was
   * z-normalized with). Stored in the model for streaming normalisation and
   * used to inject anomalies in raw units, as the paper does.
   */
  stats?: ModalityStats;
  backend?: BackendPreference;
  /** Free text recorded in the metadata, e.g. "ibrl:../shared/data/ibrl". */
  dataSource?: string;
  /**
   * Alerts a healthy node may raise per day at the live tick (`tickMs`): the
   * stored threshold is at least the one the clean validation scores give for
   * this budget (`falseAlertThreshold`). Default 0.05.
   */
  falseAlertsPerNodeDay?: number;
  /** The live detector's tick, which turns the per-day budget into one per tick. Default 31 s (ingest's default). */
  tickMs?: number;
}

export interface TrainProgress {
  phase: 'train' | 'validate';
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Mean training loss of the epoch so far. */
  loss: number;
  validationLoss?: number;
  windowsPerSecond: number;
  elapsedSeconds: number;
  /** Estimated seconds left (bounded by maxMinutes). */
  etaSeconds: number;
}

export type ProgressListener = (progress: TrainProgress) => void;

const DEFAULTS = {
  sequenceLength: 8,
  learningRate: 1e-3,
  injectionRate: 0.5,
  reconstructionWeight: 1,
  positiveNodeWeight: 4,
  falseAlertsPerNodeDay: 0.05,
  tickMs: 31_000,
  faultyCopies: 3,
  cleanShare: 0.4,
};
/** The paper's short kinds, drawn on the fly into clean sequences and as a share of the faulty copies' faults. */
const PAPER_KINDS = [...PAPER_POINT_KINDS, 'decay', 'increase'] as const;
/** Share of a faulty copy's faults drawn from the paper's short kinds. */
const PAPER_SHARE = 0.25;
/**
 * The validation set: `copies` copies of the validation range with one of the
 * paper's injections (`length` samples) every `spacing` steps, and
 * `longCopies` copies with long catalogue faults, their persistence sampled
 * every `sampleSpacing` ticks.
 */
const VALIDATION = {
  copies: 3,
  spacing: 60,
  length: PAPER_INJECTION_SAMPLES,
  longCopies: 3,
  sampleSpacing: 15,
} as const;

interface ValidationResult {
  loss: number;
  /** Cluster probability of each clean validation window. */
  clean: Float32Array;
  /** Every node's probability at each clean validation tick (steps × nodes). */
  cleanNodes: Float32Array;
  injected: Float32Array;
}

/**
 * Trains the detector self-supervised on a z-normalized series: normal
 * windows are negatives, windows holding a synthetic anomaly in one node ×
 * modality are positives (per node and for the cluster), plus a
 * reconstruction loss towards the clean windows.
 *
 * Sequences come from the clean training part (with, at `injectionRate`, one
 * of the paper's short anomalies drawn into the sequence) or from whole
 * copies of it with faults of the catalogue (sources/inject.ts: 1 tick to
 * hundreds), rebuilt every epoch, whose slow context is computed over the
 * whole copy first, as a stream would have it.
 */
export async function trainDetector(
  series: Series,
  graph: ClusterGraph,
  options: TrainOptions,
  onProgress?: ProgressListener,
): Promise<Detector> {
  const run = await prepareTraining(series, graph, options);
  const outcome = await runEpochs(run, onProgress);
  return finishTraining(run, outcome);
}

/** Everything one training run sets up before its first epoch, in the order that keeps it reproducible for a seed. */
async function prepareTraining(series: Series, graph: ClusterGraph, options: TrainOptions) {
  const started = options.startedAt ?? Date.now();
  const backend = await ensureBackend(options.backend ?? 'auto');
  const config = resolveModelConfig({ ...options.model, modalities: series.modalities });
  const o = { ...DEFAULTS, ...options };
  const w = config.window;
  const T = o.sequenceLength;
  const n = series.nodes.length;
  const m = series.modalities.length;
  const { clusterGraph, trainSteps, validationStart } = checkTrainingInput(series, graph, o, w, T);
  const rng = createRng(o.seed);
  const network = new DetectorNetwork(config, o.seed);
  const optimizer = tf.train.adam(o.learningRate);
  const zStats = computeStats(series, { from: 0, to: trainSteps });
  const injector = createTrainingInjector(zStats, o.stats, PAPER_KINDS);
  const trainSeries: Series = {
    nodes: series.nodes,
    modalities: series.modalities,
    steps: trainSteps,
    data: series.data.slice(0, trainSteps * n * m),
  };
  const contextWidth = m * contextFeatures(config.context);
  const cleanCopy: FaultyCopy = {
    series: trainSeries,
    labels: new Uint8Array(trainSteps * n),
    context: computeContext(trainSeries.data, trainSteps, n, m, clusterGraph.adjacency, config.context),
    injections: [],
  };
  const buildCopies = faultyCopyBuilder(trainSeries, clusterGraph, config, zStats, injector, o);
  const plan = sequencePlan(config, o, n, trainSteps);

  const mask = attentionMask(clusterGraph.adjacency);
  const maskBias = new Float32Array(n * n).map((_, i) => (mask[i] > 0 ? 0 : MASKED_LOGIT));

  const validation = buildValidation(
    series,
    validationStart,
    clusterGraph,
    config.context,
    zStats,
    o.stats,
    createRng(o.seed ^ 0x5eed),
  );
  const detector = new Detector(network, {
    format: DETECTOR_FORMAT,
    config,
    threshold: DEFAULT_ALERT_THRESHOLD,
    graph: clusterGraph,
    topologyHash: topologyHash(clusterGraph),
    normalization: o.stats ? toNormalizationStats(o.stats) : undefined,
  });

  return {
    series,
    started,
    backend,
    config,
    o,
    w,
    T,
    n,
    m,
    rng,
    network,
    optimizer,
    injector,
    cleanCopy,
    buildCopies,
    ...plan,
    maskBias,
    trainSteps,
    validationStart,
    validation,
    detector,
    contextWidth,
  };
}

type ResolvedTrainOptions = typeof DEFAULTS & TrainOptions;

/** Rejects a graph or a series the run cannot use; returns the cluster's graph and where validation starts. */
function checkTrainingInput(series: Series, graph: ClusterGraph, o: ResolvedTrainOptions, w: number, T: number) {
  validateGraph(graph);
  const missing = series.nodes.filter((id) => !graph.nodes.includes(id));
  if (missing.length > 0)
    throw new RangeError(`trainDetector: series nodes ${missing.join(', ')} are not in the graph`);
  const clusterGraph = subgraph(graph, series.nodes);
  if (!(o.validationFraction > 0 && o.validationFraction < 1))
    throw new RangeError(`validationFraction must be in (0, 1), got ${o.validationFraction}`);
  const trainSteps = Math.floor(series.steps * (1 - o.validationFraction));
  const validationStart = trainSteps - w + 1;
  if (trainSteps < w + T || series.steps - validationStart < w + 2 * VALIDATION.length + 2) {
    throw new RangeError(
      `trainDetector: ${series.steps} steps are too few for window ${w}, sequence ${T} and validation fraction ${o.validationFraction}`,
    );
  }
  return { clusterGraph, trainSteps, validationStart };
}

/** Builds each epoch's faulty copies of the training part from its own random stream (seeded apart from the batches'). */
function faultyCopyBuilder(
  trainSeries: Series,
  clusterGraph: ClusterGraph,
  config: ModelConfig,
  zStats: ModalityStats,
  injector: ReturnType<typeof createTrainingInjector>,
  o: ResolvedTrainOptions,
): () => FaultyCopy[] {
  const copyRng = createRng(o.seed ^ 0xfa17);
  return () =>
    Array.from({ length: o.faultyCopies }, () =>
      // A short training part gets shorter faults and gaps (faultCopyPlan), so its copies hold faults at the long-part density.
      buildFaultyCopy(
        trainSeries,
        clusterGraph.adjacency,
        config.context,
        zStats,
        injector,
        copyRng,
        faultCopyPlan(trainSeries.steps, PAPER_SHARE),
      ),
    );
}

/**
 * Sequence starts (the end step of their first window) and the GRU state
 * stored per step from earlier passes, so a sequence starts from a
 * realistic hidden state instead of zeros.
 */
function sequencePlan(config: ModelConfig, o: ResolvedTrainOptions, n: number, trainSteps: number) {
  const w = config.window;
  const T = o.sequenceLength;
  const units = config.gruUnits;
  const layers = config.gruLayers;
  const stateSize = layers * n * units;
  const hiddenCache = new Float32Array(trainSteps * stateSize);
  const lastStart = trainSteps - T;
  const allStarts: number[] = [];
  for (let s = w - 1; s <= lastStart; s++) allStarts.push(s);
  const sequencesPerEpoch = Math.max(1, Math.floor(Math.min(allStarts.length, o.windowsPerEpoch ?? Infinity) / T));
  const sequencesPerBatch = Math.max(1, Math.round(o.batchSize / T));
  const batches = Math.ceil(sequencesPerEpoch / sequencesPerBatch);
  return { units, layers, stateSize, hiddenCache, allStarts, sequencesPerEpoch, sequencesPerBatch, batches };
}

type TrainingRun = Awaited<ReturnType<typeof prepareTraining>>;
type BestEpoch = {
  loss: number;
  epoch: number;
  weights: Awaited<ReturnType<DetectorNetwork['exportWeights']>>;
  validation: ValidationResult;
};

/** Time and throughput of a run so far, for the budget, the progress lines and the metadata. */
class TrainingClock {
  windowsTrained = 0;
  trainingSeconds = 0;
  lastEpochSeconds = 0;
  lastValidationSeconds = 0;
  readonly budgetSeconds: number;

  constructor(private readonly run: TrainingRun) {
    this.budgetSeconds = (run.o.maxMinutes ?? Infinity) * 60;
  }

  elapsed(): number {
    return (Date.now() - this.run.started) / 1000;
  }

  /** Before the first validation pass its length is estimated: scoring runs about three times faster per window than training. */
  validationSeconds(): number {
    const { validation, series, validationStart } = this.run;
    return this.lastValidationSeconds > 0
      ? this.lastValidationSeconds
      : ((validation.copies.length + 1) * (series.steps - validationStart + 40)) /
          Math.max(1, this.windowsTrained / Math.max(this.trainingSeconds, 1e-3)) /
          3;
  }
}

/** The epochs: train, validate, keep the best weights; stop on patience or the time budget. */
async function runEpochs(run: TrainingRun, onProgress?: ProgressListener) {
  const { o, network, detector, validation } = run;
  const clock = new TrainingClock(run);
  const history: EpochRecord[] = [];
  let best: BestEpoch | undefined;
  let stoppedBecause: 'epochs' | 'early-stopping' | 'time-limit' = 'epochs';
  let epochsRun = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    if (
      epoch > 1 &&
      clock.elapsed() + Math.min(clock.lastEpochSeconds, 2 * clock.validationSeconds() + 1) > clock.budgetSeconds
    ) {
      stoppedBecause = 'time-limit';
      break;
    }
    const epochStarted = Date.now();
    const lossSum = trainEpoch(run, clock, epoch, epochStarted, onProgress);
    const progress = {
      epoch,
      epochs: o.epochs,
      batch: run.batches,
      batches: run.batches,
      loss: lossSum / run.batches,
      windowsPerSecond: clock.windowsTrained / clock.trainingSeconds,
      etaSeconds: 0,
    };
    onProgress?.({ phase: 'validate', ...progress, elapsedSeconds: clock.elapsed() });
    const validationStarted = Date.now();
    const result = await validate(detector, validation);
    clock.lastValidationSeconds = (Date.now() - validationStarted) / 1000;
    epochsRun = epoch;
    clock.lastEpochSeconds = (Date.now() - epochStarted) / 1000;
    history.push({
      epoch,
      trainLoss: lossSum / run.batches,
      validationLoss: result.loss,
      seconds: clock.lastEpochSeconds,
    });
    onProgress?.({ phase: 'validate', ...progress, validationLoss: result.loss, elapsedSeconds: clock.elapsed() });
    if (!best || result.loss < best.loss) {
      best = { loss: result.loss, epoch, weights: await network.exportWeights(), validation: result };
      // exportWeights returns views of backend memory on some backends: copy.
      best.weights = best.weights.map((weight) => ({ ...weight, values: weight.values.slice() }));
    } else if (epoch - best.epoch >= o.patience) {
      stoppedBecause = 'early-stopping';
      break;
    }
    if (clock.elapsed() > clock.budgetSeconds) {
      stoppedBecause = 'time-limit';
      break;
    }
  }
  return { best, history, stoppedBecause, epochsRun, clock };
}

/** One epoch's optimiser steps over fresh faulty copies; returns the summed batch loss (scaled up when the budget cut it short). */
function trainEpoch(
  run: TrainingRun,
  clock: TrainingClock,
  epoch: number,
  epochStarted: number,
  onProgress?: ProgressListener,
): number {
  const { o, T, batches, sequencesPerBatch } = run;
  const copies = run.buildCopies();
  const starts = shuffled(run.allStarts, run.rng).slice(0, run.sequencesPerEpoch);
  let lossSum = 0;
  for (let batch = 0; batch < batches; batch++) {
    const chunk = starts.slice(batch * sequencesPerBatch, (batch + 1) * sequencesPerBatch);
    if (chunk.length === 0) break;
    const batchStarted = Date.now();
    // The run is the batch context (BatchContext is the part of it a batch reads).
    const loss = trainBatch(run.network, run.optimizer, run.cleanCopy, copies, chunk, run);
    clock.trainingSeconds += (Date.now() - batchStarted) / 1000;
    clock.windowsTrained += chunk.length * T;
    lossSum += loss;
    const epochSeconds = (Date.now() - epochStarted) / 1000;
    const perBatch = epochSeconds / (batch + 1);
    const eta = Math.min(
      Math.max(0, clock.budgetSeconds - clock.elapsed()),
      perBatch * (batches - batch - 1) + (o.epochs - epoch) * Math.max(clock.lastEpochSeconds, perBatch * batches),
    );
    onProgress?.({
      phase: 'train',
      epoch,
      epochs: o.epochs,
      batch: batch + 1,
      batches,
      loss: lossSum / (batch + 1),
      windowsPerSecond: clock.windowsTrained / clock.trainingSeconds,
      elapsedSeconds: clock.elapsed(),
      etaSeconds: eta,
    });
    // Leave room for the validation pass (as long as the last one took), so the budget holds as a whole.
    if (clock.elapsed() + perBatch + clock.validationSeconds() > clock.budgetSeconds) {
      lossSum *= batches / (batch + 1);
      break;
    }
  }
  return lossSum;
}

/** The best epoch's weights, the threshold calibrated on its validation, and the metadata saved with the model. */
function finishTraining(run: TrainingRun, outcome: Awaited<ReturnType<typeof runEpochs>>): Detector {
  const { optimizer, network, detector, o, T, allStarts, validation, backend } = run;
  const { best, history, stoppedBecause, epochsRun, clock } = outcome;
  optimizer.dispose();
  if (!best) throw new Error('trainDetector: no epoch completed');
  network.importWeights(best.weights);
  const calibration = calibrateThreshold(best.validation.clean, best.validation.injected);
  const falseAlerts = falseAlertThreshold(best.validation.cleanNodes, validation.clean.nodes.length, {
    budgetPerNodeTick: (o.falseAlertsPerNodeDay * o.tickMs) / DAY_MS,
  });
  const quality: ValidationQuality = {
    ...calibration,
    injected: best.validation.injected.length,
    clean: best.validation.clean.length,
    falseAlerts: { ...falseAlerts, perNodeDay: o.falseAlertsPerNodeDay, tickMs: o.tickMs },
  };
  const metadata: DetectorMetadata = {
    ...detector.metadata,
    // The F1 threshold balances 5-sample anomalies against clean windows; a live network needs few false alerts too.
    threshold: Math.max(calibration.threshold, falseAlerts.threshold),
    training: {
      seed: o.seed,
      epochsRequested: o.epochs,
      epochsRun,
      bestEpoch: best.epoch,
      stoppedBecause,
      batchSize: o.batchSize,
      sequenceLength: T,
      learningRate: o.learningRate,
      trainWindows: allStarts.length + T - 1,
      validationWindows: validation.clean.steps - validation.from,
      windowsPerSecond: clock.trainingSeconds > 0 ? clock.windowsTrained / clock.trainingSeconds : 0,
      history,
      validation: quality,
      backend,
      date: new Date().toISOString(),
      dataSource: o.dataSource ?? 'unspecified',
    },
  };
  return new Detector(network, metadata);
}

/** What one batch reads of a training run (TrainingRun has all of it). */
interface BatchContext {
  w: number;
  T: number;
  n: number;
  m: number;
  units: number;
  layers: number;
  stateSize: number;
  maskBias: Float32Array;
  hiddenCache: Float32Array;
  trainSteps: number;
  injector: ReturnType<typeof createTrainingInjector>;
  rng: Rng;
  o: ResolvedTrainOptions;
  contextWidth: number;
}

/** One optimiser step on a batch of sequences; returns the batch loss. */
function trainBatch(
  network: DetectorNetwork,
  optimizer: tf.Optimizer,
  clean: FaultyCopy,
  copies: FaultyCopy[],
  starts: number[],
  c: BatchContext,
): number {
  const batch = assembleBatch(clean, copies, starts, c);
  const kept: tf.Tensor[] = [];
  const cost = optimizer.minimize(() => batchLoss(network, batch, c, kept), true, network.variables);
  const loss = cost ? cost.dataSync()[0] : NaN;
  cost?.dispose();
  // Store the state each clean sequence reached, for later sequences starting there.
  const states = kept.map((t) => t.dataSync() as Float32Array);
  tf.dispose(kept);
  storeCleanStates(states, starts, batch.injected, c);
  if (!Number.isFinite(loss)) throw new Error('training diverged (loss is not finite); lower --learning-rate');
  return loss;
}

/** The inputs of one batch, laid out [T, B, ...]: sequence k of step t sits at row t * B + k. */
interface BatchArrays {
  b: number;
  windows: Float32Array;
  targets: Float32Array;
  labels: Float32Array;
  context: Float32Array;
  hiddenInit: Float32Array[];
  /** Whether sequence k holds a fault (its GRU state is not stored for later sequences). */
  injected: boolean[];
}

/**
 * Fills the batch's windows, clean targets, labels, context and starting GRU
 * state; draws from c.rng in the same order for every run of a seed.
 */
function assembleBatch(clean: FaultyCopy, copies: FaultyCopy[], starts: number[], c: BatchContext): BatchArrays {
  const { w, T, n, m, units, layers, stateSize, contextWidth } = c;
  const b = starts.length;
  const windows = new Float32Array(T * b * n * m * w);
  const targets = new Float32Array(T * b * n * m * w);
  const labels = new Float32Array(T * b * n);
  const context = new Float32Array(T * b * n * contextWidth);
  const hiddenInit = Array.from({ length: layers }, () => new Float32Array(b * n * units));
  const injected: boolean[] = [];
  starts.forEach((end0, k) => {
    const slot = { windows: T, b: k, batch: b };
    const segment = sequenceSegment(clean.series, end0, T, w);
    if (copies.length > 0 && c.rng.next() >= c.o.cleanShare) {
      // A sequence of a faulty copy: its windows, labels and the context computed over the whole copy.
      const copy = copies[c.rng.int(copies.length)];
      writeWindows(sequenceSegment(copy.series, end0, T, w).data, n, m, w, slot, windows);
      // A faulty copy's labels are per tick of the whole part: window k of the sequence ends at end0 + k.
      writeWindowFlags(copy.labels, n, w, end0, slot, labels);
      writeContext(copy.context, contextWidth, n, end0, slot, context);
      injected.push(true);
    } else {
      let values = segment.data;
      if (c.rng.next() < c.o.injectionRate) {
        values = c.injector.inject(segment, c.rng, { minLength: 1, maxLength: 10 }).series.data;
      }
      injected.push(values !== segment.data);
      writeWindows(values, n, m, w, slot, windows);
      writeNodeLabels(values, segment.data, { n, m, w }, slot, labels);
      writeContext(clean.context, contextWidth, n, end0, slot, context);
    }
    writeWindows(segment.data, n, m, w, slot, targets);
    for (let layer = 0; layer < layers; layer++) {
      hiddenInit[layer].set(
        c.hiddenCache.subarray(end0 * stateSize + layer * n * units, end0 * stateSize + (layer + 1) * n * units),
        k * n * units,
      );
    }
  });
  return { b, windows, targets, labels, context, hiddenInit, injected };
}

/**
 * The batch loss, inside the optimiser's tape: the GRU is unrolled over the T
 * steps; each step's hidden state is kept (pushed onto `kept`) so the caller
 * can store it.
 */
function batchLoss(network: DetectorNetwork, batch: BatchArrays, c: BatchContext, kept: tf.Tensor[]): tf.Scalar {
  const { w, T, n, m, units, contextWidth } = c;
  const { b } = batch;
  const windowTensor = tf.tensor4d(batch.windows, [T * b, n, m, w]);
  const bias = tf.tile(tf.tensor3d(c.maskBias, [1, n, n]), [T * b, 1, 1]) as tf.Tensor3D;
  const contextTensor = tf.tensor2d(batch.context, [T * b * n, contextWidth]);
  const fused = network.encode(windowTensor, bias, contextTensor);
  let hidden = batch.hiddenInit.map((h) => tf.tensor2d(h, [b * n, units]));
  const outputs: tf.Tensor2D[] = [];
  for (let k = 0; k < T; k++) {
    const step = network.recur(tf.slice(fused, [k * b * n, 0], [b * n, -1]), hidden);
    outputs.push(step.output);
    hidden = step.hidden;
    kept.push(...hidden.map((h) => tf.keep(h)));
  }
  const decoded = network.decode(windowTensor, bias, tf.ones([T * b, n]), fused, tf.concat(outputs, 0), contextTensor);
  const nodeLabels = tf.tensor2d(batch.labels, [T * b, n]);
  const nodeWeights = tf.add(1, tf.mul(c.o.positiveNodeWeight - 1, nodeLabels));
  const nodeLoss = tf.div(
    tf.sum(tf.mul(nodeWeights, bceWithLogits(decoded.nodeLogits, nodeLabels))),
    tf.sum(nodeWeights),
  );
  const clusterLoss = tf.mean(bceWithLogits(decoded.clusterLogits, tf.max(nodeLabels, 1)));
  const reconstructionLoss = tf.mean(
    tf.square(tf.sub(decoded.reconstruction, centerWindows(tf.tensor4d(batch.targets, [T * b, n, m, w])))),
  );
  return tf.addN([nodeLoss, clusterLoss, tf.mul(c.o.reconstructionWeight, reconstructionLoss)]) as tf.Scalar;
}

/** Writes the GRU state each clean sequence reached at every step into the cache, for later sequences starting there. */
function storeCleanStates(states: Float32Array[], starts: number[], injected: boolean[], c: BatchContext): void {
  const { T, n, units, layers, stateSize } = c;
  starts.forEach((end0, k) => {
    if (injected[k]) return;
    for (let step = 0; step < T; step++) {
      const target = end0 + step + 1;
      if (target >= c.trainSteps) break;
      for (let layer = 0; layer < layers; layer++) {
        c.hiddenCache.set(
          states[step * layers + layer].subarray(k * n * units, (k + 1) * n * units),
          target * stateSize + layer * n * units,
        );
      }
    }
  });
}

/** Binary cross-entropy on logits, element-wise, numerically stable. */
function bceWithLogits(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

interface ValidationCopy {
  series: Series;
  context: Float32Array;
  injections: Injection[];
  /** Per node × tick ground truth of long faults (steps × N); absent for the paper's 5-sample copies. */
  labels?: Uint8Array;
}

interface ValidationSet {
  /** The whole series (training part + held-out tail): the context needs the history before the tail. */
  clean: Series;
  cleanContext: Float32Array;
  /** First scored step (the held-out tail). */
  from: number;
  copies: ValidationCopy[];
}

/**
 * The held-out tail, scored as a stream that ran from step 0: clean; copies
 * with one paper anomaly every VALIDATION.spacing steps (with raw statistics
 * the paper's kind rule, length 5, raw units); and copies with long faults of
 * the catalogue in the tail.
 */
function buildValidation(
  series: Series,
  from: number,
  graph: ClusterGraph,
  contextConfig: ModelConfig['context'],
  zStats: ModalityStats,
  rawStats: ModalityStats | undefined,
  rng: Rng,
): ValidationSet {
  const n = series.nodes.length;
  const m = series.modalities.length;
  const contextOf = (s: Series): Float32Array => computeContext(s.data, s.steps, n, m, graph.adjacency, contextConfig);
  const nearest = graph.adjacency.map((row, i) => {
    let bestJ: number | undefined;
    row.forEach((value, j) => {
      if (j !== i && value > 0 && (bestJ === undefined || value > row[bestJ])) bestJ = j;
    });
    return bestJ;
  });
  const injector = createTrainingInjector(zStats, rawStats, PAPER_KINDS);
  const copies: ValidationCopy[] = [];
  const tail = series.steps - from;
  // Keep anomalies away from the ends: the first windows have little GRU history.
  const margin = Math.min(25, Math.floor(tail / 4));
  for (let copy = 0; copy < VALIDATION.copies; copy++) {
    let current = series;
    const injections: Injection[] = [];
    const offset = Math.floor((copy * VALIDATION.spacing) / VALIDATION.copies);
    for (
      let start = from + margin + offset;
      start + 2 * VALIDATION.length + margin < series.steps;
      start += VALIDATION.spacing
    ) {
      let injection: Injection;
      if (rawStats) {
        const node = rng.int(n);
        const modality = rng.int(m);
        const raw = denormalizeSeries(current, rawStats);
        const choice = paperKind(raw, node, modality, raw, nearest[node], rng, {
          span: { from: Math.max(0, start - VALIDATION.length), to: Math.min(series.steps, start + 20) },
        });
        injection = {
          kind: choice.kind,
          node,
          modality,
          start,
          length: VALIDATION.length,
          magnitude: choice.magnitude,
          pivot: 'zero',
        };
        current = normalizeSeries(injectAnomaly(raw, injection, rawStats), rawStats);
      } else {
        injection = {
          ...injector.draw(current, rng, { minLength: VALIDATION.length, maxLength: VALIDATION.length }),
          start,
        };
        current = injector.apply(current, injection);
      }
      injections.push(injection);
    }
    copies.push({ series: current, context: contextOf(current), injections });
  }
  if (copies.every((copy) => copy.injections.length === 0)) {
    throw new RangeError(
      `trainDetector: the validation part (${tail} steps) is too short to hold an injected anomaly; raise validationFraction or give more data`,
    );
  }
  for (let copy = 0; copy < VALIDATION.longCopies; copy++) {
    const built = buildFaultyCopy(series, graph.adjacency, contextConfig, zStats, injector, rng, {
      from: from + margin,
      to: series.steps - margin,
      meanGap: 3 * tail,
      paperShare: 0,
      maxLength: Math.max(1, tail - 2 * margin),
    });
    copies.push({ series: built.series, context: built.context, injections: built.injections, labels: built.labels });
  }
  return { clean: series, cleanContext: contextOf(series), from, copies };
}

async function validate(detector: Detector, set: ValidationSet): Promise<ValidationResult> {
  const w = detector.config.window;
  const n = set.clean.nodes.length;
  const cleanScores = await detector.scoreSeries(set.clean, set.from, set.clean.steps, set.cleanContext);
  const injected: number[] = [];
  for (const copy of set.copies) {
    const scores = await detector.scoreSeries(copy.series, set.from, copy.series.steps, copy.context);
    for (const injection of copy.injections) {
      // Detection: the highest cluster score over the windows that first hold the anomaly.
      let max = 0;
      for (let t = injection.start; t < Math.min(copy.series.steps, injection.start + w); t++)
        max = Math.max(max, scores.cluster[t - scores.from]);
      injected.push(max);
      if (!copy.labels) continue;
      // Persistence: the faulty node's own score along a long fault, sampled every VALIDATION.sampleSpacing ticks
      // after its first ticks, so the threshold also has to hold while the fault lasts.
      let first = -1;
      const end = affectedSpan(injection, copy.series.steps).end;
      for (let t = injection.start; t < end; t++) {
        if (!copy.labels[t * n + injection.node]) continue;
        if (first < 0) first = t;
        if (t - first >= Math.min(10, w) && (t - first) % VALIDATION.sampleSpacing === 0)
          injected.push(scores.node[(t - scores.from) * n + injection.node]);
      }
    }
  }
  const eps = 1e-7;
  let cleanLoss = 0;
  for (const p of cleanScores.cluster) cleanLoss -= Math.log(Math.max(eps, 1 - p));
  let injectedLoss = 0;
  for (const p of injected) injectedLoss -= Math.log(Math.max(eps, p));
  const loss = 0.5 * (cleanLoss / cleanScores.cluster.length) + 0.5 * (injectedLoss / Math.max(1, injected.length));
  return { loss, clean: cleanScores.cluster, cleanNodes: cleanScores.node, injected: Float32Array.from(injected) };
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The JSON form of raw-unit statistics, with the per-modality pool as fallback for new nodes. */
export function toNormalizationStats(stats: ModalityStats): NormalizationStats {
  return {
    nodes: [...stats.nodes],
    modalities: [...stats.modalities],
    mean: Array.from(stats.mean),
    std: Array.from(stats.std),
    globalMean: Array.from(stats.modalityMean),
    globalStd: Array.from(stats.modalityStd),
  };
}
