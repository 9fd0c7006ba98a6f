/**
 * The GNN + GRU anomaly detector: model, streaming step function, training
 * and persistence. docs/model.md describes the architecture and the files.
 */
export { DEFAULT_MODEL_CONFIG, resolveModelConfig, type ModelConfig } from './config.ts';
export { attentionMask, completeGraph, subgraph, topologyHash, validateGraph, type ClusterGraph } from './graph.ts';
export {
  createClusterState,
  cloneClusterState,
  resizeClusterState,
  pushSample,
  serializeClusterState,
  clusterStateBytes,
  type ClusterStateBytes,
  deserializeClusterState,
  type ClusterState,
  type ClusterStateJson,
} from './state.ts';
export {
  DEFAULT_CONTEXT_CONFIG,
  contextHistorySize,
  contextRowSize,
  contextStateFromFloat64Rows,
  computeContext,
  stepContext,
  contextFeatures,
  type ContextConfig,
  type ContextState,
} from './context.ts';
export {
  Detector,
  DEFAULT_MAX_CLUSTERS_PER_CALL,
  DEFAULT_WARMUP,
  type ClusterStepInput,
  type ClusterStepOutput,
} from './detector.ts';
export { DetectorNetwork, type StepTensors, type StepOutputs } from './network.ts';
export { saveDetector, loadDetector, MODEL_FILE, WEIGHTS_FILE } from './io.ts';
export { ensureBackend, type BackendPreference } from './runtime.ts';
export {
  DETECTOR_FORMAT,
  type DetectorMetadata,
  type NormalizationStats,
  type TrainingMetadata,
  type ValidationQuality,
  type EpochRecord,
} from './metadata.ts';
export {
  trainDetector,
  toNormalizationStats,
  type TrainOptions,
  type TrainProgress,
  type ProgressListener,
} from './train/train.ts';
