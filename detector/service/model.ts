import { UserError } from '../../common/errors.ts';
import type { budgetPriorOf } from '../alerts/false-alert-budget.ts';
import type {
  ClusterGraph,
  ClusterState,
  ClusterStepInput,
  ClusterStepOutput,
  Detector,
  ModelConfig,
} from '../../model/index.ts';

/**
 * What the streaming service needs from a model: the trained Detector fits
 * it as is; unit tests use a small deterministic stand-in.
 */
export interface StreamingModel {
  readonly config: Pick<ModelConfig, 'modalities' | 'window' | 'gruLayers' | 'gruUnits'> & {
    /** The slow context's warm-up: no verdict counts before a cluster has seen this many ticks (absent: none). */
    context?: { warmupTicks: number };
  };
  /** Calibrated probability threshold stored with the model. */
  readonly threshold: number;
  /** What the model stores of its calibration: the false-alert budget's prior (detector/alerts/false-alert-budget.ts). */
  readonly metadata?: Parameters<typeof budgetPriorOf>[0]['metadata'];
  /** The graph the model was trained on: whose neighbours a node has when the live topology does not say (alert localization). */
  readonly graph?: ClusterGraph;
  createState(nodes: string[]): ClusterState;
  resizeState(state: ClusterState, nodes: string[]): ClusterState;
  /** Raw N × M values (node-major) → z-normalized with the training statistics (per-modality fallback for new nodes). */
  normalizeValues(nodes: string[], raw: Float32Array): Float32Array;
  /** Pushes one tick per cluster and scores every cluster whose window is full, in one call. */
  step(batch: ClusterStepInput[]): Promise<ClusterStepOutput[]>;
}

/** What the deployment says the model must match (both optional). */
export interface ModelExpectations {
  modalities?: string[];
  window?: number;
}

/**
 * Refuses a model that cannot score these frames: modalities in another order
 * or set, or another window than configured. The message names both sides.
 */
export function checkModel(model: StreamingModel, expected: ModelExpectations, source: string): void {
  const have = model.config.modalities;
  if (expected.modalities && expected.modalities.join('\u0000') !== have.join('\u0000')) {
    throw new UserError(
      'MODEL_MISMATCH',
      `the model at ${source} was trained on modalities [${have.join(', ')}], but the detector is configured for [${expected.modalities.join(', ')}]`,
      'train a model on these modalities (`wsn-watch train`) or set detector.modalities to match the model',
    );
  }
  if (expected.window !== undefined && expected.window !== model.config.window) {
    throw new UserError(
      'MODEL_MISMATCH',
      `the model at ${source} uses a window of ${model.config.window} ticks, but detector.window is ${expected.window}`,
      'train a model with this window or change detector.window to match the model',
    );
  }
}

/** What the detector service sets on a model it loads (at start and at a swap): its clusters per native call. */
export function serveModel(model: { maxClustersPerCall: number }, settings: { modelClustersPerCall?: number }): void {
  if (settings.modelClustersPerCall !== undefined) model.maxClustersPerCall = settings.modelClustersPerCall;
}

/**
 * Checks a frame's modalities against the model: every model modality must
 * be a key of the frame's nodes' values (null values are fine: a node that
 * never reported it yet). Returns the missing ones.
 */
export function missingModalities(model: StreamingModel, frameModalities: Iterable<string>): string[] {
  const present = new Set(frameModalities);
  return model.config.modalities.filter((modality) => !present.has(modality));
}

export type { Detector };
