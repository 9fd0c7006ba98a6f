import type { FalseAlertCalibration } from './train/false-alert-threshold.ts';
import type { ModelConfig } from './config.ts';
import type { ClusterGraph } from './graph.ts';

/**
 * Per node × modality normalisation statistics of the training data, and a
 * per-modality fallback for nodes that joined after training.
 * mean/std are row-major nodes × modalities.
 */
export interface NormalizationStats {
  nodes: string[];
  modalities: string[];
  mean: number[];
  std: number[];
  globalMean: number[];
  globalStd: number[];
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  validationLoss: number;
  seconds: number;
}

/** Validation quality at the calibrated threshold. */
export interface ValidationQuality {
  /** The F1-optimal threshold of the paper's kind of validation (the stored threshold is at least this). */
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  injected: number;
  clean: number;
  /** The threshold for a false-alert budget on the clean validation (absent in models trained before it existed). */
  falseAlerts?: FalseAlertCalibration & { perNodeDay: number; tickMs: number };
}

export interface TrainingMetadata {
  seed: number;
  epochsRequested: number;
  epochsRun: number;
  bestEpoch: number;
  stoppedBecause: 'epochs' | 'early-stopping' | 'time-limit';
  batchSize: number;
  sequenceLength: number;
  learningRate: number;
  trainWindows: number;
  validationWindows: number;
  windowsPerSecond: number;
  history: EpochRecord[];
  validation: ValidationQuality;
  backend: string;
  date: string;
  dataSource: string;
}

/** Everything stored next to the weights. */
export interface DetectorMetadata {
  format: typeof DETECTOR_FORMAT;
  config: ModelConfig;
  /** Probability at or above which a window counts as anomalous (calibrated on validation data). */
  threshold: number;
  /** The training topology and its hash. */
  graph: ClusterGraph;
  topologyHash: string;
  normalization?: NormalizationStats;
  training?: TrainingMetadata;
}

/** /2: slow context path (model/context.ts) and long-fault training; /1 models cannot be loaded. */
export const DETECTOR_FORMAT = 'wsn-watch-detector/2';
