import * as tf from '@tensorflow/tfjs';
import { createRng } from '../common/random.ts';
import type { ModelConfig } from './config.ts';
import { Mlp, Dense } from './layers/dense.ts';
import { GraphAttention, MASKED_LOGIT } from './layers/graph-attention.ts';
import { StackedGru } from './layers/gru.ts';
import { ModalityFusion } from './layers/fusion.ts';
import { ParamStore } from './layers/init.ts';
import { contextFeatures } from './context.ts';

/** The inputs of one time step for B clusters padded to N nodes. */
export interface StepTensors {
  /** [B, N, M, W] z-normalized windows. */
  windows: tf.Tensor4D;
  /** [B, N, N] additive attention bias: 0 on edges and self-loops, MASKED_LOGIT elsewhere. */
  maskBias: tf.Tensor3D;
  /** [B, N] 1 for real nodes, 0 for padding (excluded from the cluster pooling). */
  nodeMask: tf.Tensor2D;
  /** One [B·N, units] tensor per GRU layer. */
  hidden: tf.Tensor2D[];
  /** [B·N, M·F] slow context features of each node (model/context.ts), node-major rows. */
  context: tf.Tensor2D;
}

export interface StepOutputs {
  /** [B, N] anomaly logit of each node. */
  nodeLogits: tf.Tensor2D;
  /** [B] anomaly logit of each cluster: the max over its real nodes (max-pooling of probabilities). */
  clusterLogits: tf.Tensor1D;
  /** [B, N, M, W] reconstructed windows, centered (each node × modality window minus its mean). */
  reconstruction: tf.Tensor4D;
  /** [B, N, M] mean squared reconstruction error of each node and modality. */
  errors: tf.Tensor3D;
  /** Next GRU state, one [B·N, units] tensor per layer. */
  hidden: tf.Tensor2D[];
}

/**
 * The GLSL-style autoencoder: temporal + spatial (graph attention) encoders
 * per modality, adaptive intermodal fusion, a per-node GRU carried over time,
 * a graph-attention + fully connected decoder per modality and a per-node
 * anomaly head. Every weight is shared across nodes, so the network has no
 * dimension tied to the cluster size.
 */
export class DetectorNetwork {
  readonly params: ParamStore;
  private readonly temporal: Mlp;
  private readonly spatial1: GraphAttention;
  private readonly spatial2: GraphAttention;
  private readonly fusion: ModalityFusion;
  private readonly gru: StackedGru;
  private readonly decoderInput: Mlp;
  private readonly decoderAttention1: GraphAttention;
  private readonly decoderAttention2: GraphAttention;
  private readonly decoderDense: Mlp;
  private readonly decoderOutput: Dense;
  private readonly head: Mlp;
  private readonly contextEncoder: Mlp;

  constructor(
    readonly config: ModelConfig,
    seed: number,
  ) {
    const params = new ParamStore(createRng(seed));
    this.params = params;
    const m = config.modalities.length;
    const w = config.window;
    const e = config.embedding;
    this.temporal = new Mlp(params, 'encoder/temporal', [w, config.temporalHidden, e], 'relu', 'linear', m);
    this.spatial1 = new GraphAttention(
      params,
      'encoder/spatial1',
      m,
      w,
      config.gatHeads,
      config.gatHeadSize,
      true,
      'elu',
    );
    this.spatial2 = new GraphAttention(
      params,
      'encoder/spatial2',
      m,
      config.gatHeads * config.gatHeadSize,
      1,
      e,
      false,
      'linear',
    );
    this.fusion = new ModalityFusion(params, 'encoder/fusion', m, 2 * e);
    const contextWidth = m * contextFeatures(config.context);
    const c = config.contextEmbedding;
    // The slow context enters beside the fused window features, so the GRU, the decoder and the head all see it.
    this.contextEncoder = new Mlp(params, 'encoder/context', [contextWidth, 2 * c, c], 'relu', 'tanh');
    this.gru = new StackedGru(params, 'gru', 2 * e + c, config.gruUnits, config.gruLayers);
    this.decoderInput = new Mlp(
      params,
      'decoder/input',
      [config.gruUnits + 2 * e + c, config.decoderHidden, w],
      'relu',
    );
    this.decoderAttention1 = new GraphAttention(
      params,
      'decoder/attention1',
      m,
      w,
      config.gatHeads,
      config.gatHeadSize,
      true,
      'elu',
    );
    this.decoderAttention2 = new GraphAttention(
      params,
      'decoder/attention2',
      m,
      config.gatHeads * config.gatHeadSize,
      1,
      w,
      false,
      'linear',
    );
    this.decoderDense = new Mlp(params, 'decoder/dense', [w, config.decoderHidden, w], 'relu', 'linear', m);
    this.decoderOutput = new Dense(params, 'decoder/output', 2 * w, w, 'linear', m);
    // Per node: squared error of every sample (M·W) and its mean per modality (M), the window's first
    // differences (M·(W-1)) and its deviation from the neighbours' mean (M·W), GRU output, fused features with the
    // context embedding, and the context features themselves (level, variance and correlation against the neighbours).
    this.head = new Mlp(
      params,
      'head',
      [
        m * w + m + m * (w - 1) + m * w + config.gruUnits + 2 * e + c + contextWidth,
        config.headHidden,
        config.headHidden,
        1,
      ],
      'relu',
    );
  }

  get variables(): tf.Variable[] {
    return this.params.variables;
  }

  /**
   * One time step for B clusters: encode, advance the GRU, decode and score.
   * Call inside tf.tidy (or a gradient function).
   */
  step(inputs: StepTensors): StepOutputs {
    const fused = this.encode(inputs.windows, inputs.maskBias, inputs.context);
    const { output, hidden } = this.recur(fused, inputs.hidden);
    return { ...this.decode(inputs.windows, inputs.maskBias, inputs.nodeMask, fused, output, inputs.context), hidden };
  }

  /**
   * The part that does not depend on the GRU state: temporal and spatial
   * features of every modality, fused. Independent per window, so callers
   * batch many time steps into one call.
   * windows [B, N, M, W], maskBias [B, N, N], context [B·N, M·F] → fused [B·N, 2E + C].
   */
  encode(windows: tf.Tensor4D, maskBias: tf.Tensor3D, context: tf.Tensor2D): tf.Tensor2D {
    const { config } = this;
    const [b, n, m, w] = windows.shape;
    if (m !== config.modalities.length || w !== config.window) {
      throw new RangeError(
        `network: expected windows [B, N, ${config.modalities.length}, ${config.window}], got [${windows.shape.join(', ')}]`,
      );
    }
    const rows = b * n;
    const byModality = tf.transpose(centerWindows(windows), [2, 0, 1, 3]); // [M, B, N, W]
    const temporal = tf.reshape(this.temporal.apply(tf.reshape(byModality, [m, rows, w])), [m, b, n, config.embedding]);
    const spatial = this.spatial2.apply(this.spatial1.apply(byModality, maskBias), maskBias); // [M, B, N, E]
    const features = tf.reshape(tf.concat([temporal, spatial], -1), [m, rows, 2 * config.embedding]);
    const contextWidth = m * contextFeatures(config.context);
    if (context.shape[0] !== rows || context.shape[1] !== contextWidth) {
      throw new RangeError(`network: expected context [${rows}, ${contextWidth}], got [${context.shape.join(', ')}]`);
    }
    return tf.concat(
      [this.fusion.apply(features as tf.Tensor3D), this.contextEncoder.apply(signedLog(context))],
      1,
    ) as tf.Tensor2D;
  }

  /** Advances every node's GRU by one step: fused [R, 2E], hidden per layer [R, U]. */
  recur(fused: tf.Tensor2D, hidden: tf.Tensor2D[]): { output: tf.Tensor2D; hidden: tf.Tensor2D[] } {
    return this.gru.apply(fused, hidden);
  }

  /**
   * Reconstruction and anomaly scores from the fused features and the GRU
   * output of the same windows. Independent per window (batchable over time).
   */
  decode(
    windows: tf.Tensor4D,
    maskBias: tf.Tensor3D,
    nodeMask: tf.Tensor2D,
    fused: tf.Tensor2D,
    output: tf.Tensor2D,
    context: tf.Tensor2D,
  ): Omit<StepOutputs, 'hidden'> {
    const [b, n, m, w] = windows.shape;
    const rows = b * n;
    windows = centerWindows(windows);
    const latent = tf.concat([output, fused], 1); // [B·N, U + 2E + C]
    const seed = tf.reshape(this.decoderInput.apply(latent), [1, b, n, w]);
    const seedPerModality = tf.tile(seed, [m, 1, 1, 1]); // [M, B, N, W]
    const graphPart = this.decoderAttention2.apply(this.decoderAttention1.apply(seedPerModality, maskBias), maskBias);
    const densePart = tf.reshape(this.decoderDense.apply(tf.reshape(seedPerModality, [m, rows, w])), [m, b, n, w]);
    const combined = tf.reshape(tf.concat([graphPart, densePart], -1), [m, rows, 2 * w]);
    const reconstructionByModality = tf.reshape(this.decoderOutput.apply(combined), [m, b, n, w]);
    const reconstruction = tf.transpose(reconstructionByModality, [1, 2, 0, 3]) as tf.Tensor4D; // [B, N, M, W]

    const squared = tf.square(tf.sub(windows, reconstruction)); // [B, N, M, W]
    const errors = tf.mean(squared, -1) as tf.Tensor3D; // [B, N, M]
    // Residual signals next to the reconstruction error: a jump or ramp shows in the first
    // differences, a node leaving its neighbours' course in the deviation from their mean.
    const steps = tf.sub(
      tf.slice(windows, [0, 0, 0, 1], [-1, -1, -1, w - 1]),
      tf.slice(windows, [0, 0, 0, 0], [-1, -1, -1, w - 1]),
    );
    const deviation = neighbourDeviation(windows, maskBias);
    // log1p / signed log keep the head's input bounded when a surge makes values huge.
    const headInput = tf.concat(
      [
        tf.log1p(tf.reshape(squared, [rows, m * w])),
        tf.log1p(tf.reshape(errors, [rows, m])),
        signedLog(tf.reshape(steps, [rows, m * (w - 1)])),
        signedLog(tf.reshape(deviation, [rows, m * w])),
        latent,
        signedLog(context),
      ],
      1,
    );
    const nodeLogits = tf.reshape(this.head.apply(headInput), [b, n]) as tf.Tensor2D;
    const padded = tf.mul(tf.sub(1, nodeMask), MASKED_LOGIT);
    const clusterLogits = tf.max(tf.add(nodeLogits, padded), 1) as tf.Tensor1D;
    return { nodeLogits, clusterLogits, reconstruction, errors };
  }

  /** Weights by name, as Float32Arrays with shapes (for saving and for tests). */
  async exportWeights(): Promise<Array<{ name: string; shape: number[]; values: Float32Array }>> {
    const out: Array<{ name: string; shape: number[]; values: Float32Array }> = [];
    for (const [name, variable] of this.params.entries)
      out.push({ name, shape: [...variable.shape], values: (await variable.data()) as Float32Array });
    return out;
  }

  /** Replaces every weight; names and shapes must match this network's. */
  importWeights(weights: Array<{ name: string; shape: number[]; values: Float32Array }>): void {
    const byName = new Map(weights.map((w) => [w.name, w]));
    for (const [name, variable] of this.params.entries) {
      const weight = byName.get(name);
      if (!weight) throw new RangeError(`weights: missing ${name}`);
      if (weight.shape.join('x') !== variable.shape.join('x'))
        throw new RangeError(`weights: ${name} has shape [${weight.shape}], expected [${variable.shape}]`);
      tf.tidy(() => variable.assign(tf.tensor(weight.values, weight.shape)));
    }
    if (byName.size !== this.params.entries.size)
      throw new RangeError(`weights: ${byName.size} tensors given, the network has ${this.params.entries.size}`);
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** sign(x) · log(1 + |x|): linear near 0, logarithmic for outliers. */
function signedLog(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.sign(x), tf.log1p(tf.abs(x)));
}

/**
 * Each node's window minus the mean of its neighbours' (edges of the
 * attention mask, self excluded); zero for a node without neighbours.
 * windows [B, N, M, W], maskBias [B, N, N] → [B, N, M, W].
 */
export function neighbourDeviation(windows: tf.Tensor4D, maskBias: tf.Tensor3D): tf.Tensor4D {
  const [b, n, m, w] = windows.shape;
  const edges = tf.sub(tf.cast(tf.greater(maskBias, MASKED_LOGIT / 2), 'float32'), tf.eye(n).expandDims(0)); // [B, N, N]
  const degree = tf.sum(edges, -1, true); // [B, N, 1]
  const flat = tf.reshape(windows, [b, n, m * w]);
  const neighbourMean = tf.div(tf.matMul(edges as tf.Tensor3D, flat), tf.maximum(degree, 1));
  const alone = tf.cast(tf.equal(degree, 0), 'float32');
  // Without neighbours the node is compared with itself (deviation 0).
  const reference = tf.add(tf.mul(neighbourMean, tf.sub(1, alone)), tf.mul(flat, alone));
  return tf.reshape(tf.sub(flat, reference), [b, n, m, w]) as tf.Tensor4D;
}

/**
 * Each node × modality window minus its own mean. The network sees the
 * course of a window, not its level: slow drifts beyond the training range
 * (a draining battery's voltage) then look normal, while an anomaly inside
 * the window still changes its shape.
 */
export function centerWindows<T extends tf.Tensor>(windows: T): T {
  return tf.sub(windows, tf.mean(windows, -1, true)) as T;
}
