import { DEFAULT_CONTEXT_CONFIG, type ContextConfig } from './context.ts';

/**
 * Hyper-parameters of the GNN + GRU autoencoder. Nothing here depends on the
 * number of nodes: one model serves clusters of any size.
 */
export interface ModelConfig {
  /** Modality names, in the order of the series' modality axis. */
  modalities: string[];
  /** Window length in samples (the paper uses 20). */
  window: number;
  /** Hidden width of the per-node temporal network W → hidden → embedding. */
  temporalHidden: number;
  /** Width of the temporal and of the spatial embedding (fused: 2 × embedding). */
  embedding: number;
  /** Heads of the first graph-attention layer. */
  gatHeads: number;
  /** Width of each head of the first graph-attention layer. */
  gatHeadSize: number;
  /** Units per GRU layer. */
  gruUnits: number;
  /** Stacked GRU layers. */
  gruLayers: number;
  /** Hidden width of the decoder's fully connected parts. */
  decoderHidden: number;
  /** Hidden width of the anomaly head. */
  headHidden: number;
  /** Width of the embedding of the slow context features fed to the GRU and the head. */
  contextEmbedding: number;
  /** The slow context path's horizons (model/context.ts). */
  context: ContextConfig;
}

export const DEFAULT_MODEL_CONFIG: Omit<ModelConfig, 'modalities'> = {
  window: 20,
  temporalHidden: 128,
  embedding: 4,
  gatHeads: 6,
  gatHeadSize: 32,
  gruUnits: 16,
  gruLayers: 2,
  decoderHidden: 128,
  headHidden: 64,
  contextEmbedding: 16,
  context: DEFAULT_CONTEXT_CONFIG,
};

export function resolveModelConfig(partial: Partial<ModelConfig> & { modalities: string[] }): ModelConfig {
  const config: ModelConfig = {
    ...DEFAULT_MODEL_CONFIG,
    ...partial,
    modalities: [...partial.modalities],
    context: { ...DEFAULT_CONTEXT_CONFIG, ...partial.context },
  };
  if (config.modalities.length === 0) throw new RangeError('ModelConfig.modalities must name at least one modality');
  for (const key of [
    'window',
    'temporalHidden',
    'embedding',
    'gatHeads',
    'gatHeadSize',
    'gruUnits',
    'gruLayers',
    'decoderHidden',
    'headHidden',
    'contextEmbedding',
  ] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`ModelConfig.${key} must be a positive integer, got ${value}`);
  }
  for (const [key, value] of Object.entries(config.context)) {
    // 0 PAA segments is a model without the PAA part of the context path.
    if (
      !(Number.isInteger(value) && value >= 1) &&
      !(key === 'clip' && value > 0) &&
      !(key === 'segments' && value === 0)
    )
      throw new RangeError(`ModelConfig.context.${key} must be a positive integer, got ${value}`);
  }
  if (config.window < 2) throw new RangeError(`ModelConfig.window must be at least 2, got ${config.window}`);
  return config;
}
