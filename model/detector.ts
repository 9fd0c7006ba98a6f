import * as tf from '@tensorflow/tfjs';
import type { Series } from '../sources/series.ts';
import type { SeriesScorer, SeriesScores } from './scoring.ts';
import type { ModelConfig } from './config.ts';
import { attentionMask, subgraph, validateGraph, type ClusterGraph } from './graph.ts';
import { MASKED_LOGIT } from './layers/graph-attention.ts';
import type { DetectorMetadata } from './metadata.ts';
import type { DetectorNetwork } from './network.ts';
import { createClusterState, pushSample, resizeClusterState, type ClusterState } from './state.ts';
import {
  computeContext,
  contextFeatures,
  contextStateFits,
  createContextState,
  neighbourLists,
  stepContext,
} from './context.ts';

/** One cluster's new tick for Detector.step. */
export interface ClusterStepInput {
  /** The cluster's state; updated in place (windows, hidden state, filled). */
  state: ClusterState;
  /** The tick's z-normalized values, N × M node-major in state.nodes order; NaN = missing (repeats the last sample). The slow context (state.context) advances with them. */
  values: Float32Array;
  /** N × N adjacency in state.nodes order (> 0 = edge). Defaults to the detector's graph restricted to state.nodes. */
  adjacency?: number[][];
}

export interface ClusterStepOutput {
  state: ClusterState;
  /** False until the window is full: the scores are then zeros and the GRU state is untouched. */
  ready: boolean;
  /** Anomaly probability of the cluster at this tick. */
  cluster: number;
  /** Anomaly probability per node (state.nodes order). */
  node: Float32Array;
  /** Mean squared reconstruction error per node × modality (node-major). */
  reconstruction: Float32Array;
  /** The slow context features of this tick, N × M × F node-major (model/context.ts); computed even before the window is full. Optional for stand-in models. */
  context?: Float32Array;
}

/** How many steps before `from` scoreSeries runs to warm up the GRU state. */
export const DEFAULT_WARMUP = 40;
/** Clusters per model call in Detector.step (docs/benchmarks.md, detector memory). */
export const DEFAULT_MAX_CLUSTERS_PER_CALL = 32;
/** Time steps encoded and decoded in one batched call by scoreSeries. */
const SCORE_CHUNK = 64;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The trained GNN + GRU detector: scores whole series for evaluation
 * (SeriesScorer) and steps many clusters tick by tick for streaming.
 */
export class Detector implements SeriesScorer {
  readonly name = 'gnn-gru-autoencoder';
  warmup = DEFAULT_WARMUP;
  /**
   * Clusters scored in one model call by step. A call's native memory grows
   * with the clusters in it (the graph attention's pairwise tensors, several
   * MB per cluster of 64 nodes) and stays with the process at its peak, so a
   * backlog of a large network in one call would hold gigabytes; calls of
   * this many keep nearly all of the batching's gain.
   */
  maxClustersPerCall = DEFAULT_MAX_CLUSTERS_PER_CALL;

  constructor(
    readonly network: DetectorNetwork,
    readonly metadata: DetectorMetadata,
    readonly graph: ClusterGraph = metadata.graph,
  ) {
    validateGraph(graph);
  }

  get config(): ModelConfig {
    return this.network.config;
  }

  get threshold(): number {
    return this.metadata.threshold;
  }

  /** The same weights on another topology (e.g. a cluster of the live network). */
  withGraph(graph: ClusterGraph): Detector {
    return new Detector(this.network, this.metadata, graph);
  }

  createState(nodes: string[]): ClusterState {
    return createClusterState(nodes, this.config);
  }

  resizeState(state: ClusterState, nodes: string[]): ClusterState {
    return resizeClusterState(state, nodes, this.config);
  }

  /**
   * Z-normalizes raw values (N × M, node-major) with the training statistics;
   * nodes unknown at training time use the per-modality global statistics.
   */
  normalizeValues(nodes: string[], raw: Float32Array): Float32Array {
    const stats = this.metadata.normalization;
    const m = this.config.modalities.length;
    if (!stats) return raw.slice();
    const nodeIndex = new Map(stats.nodes.map((node, i) => [node, i]));
    const modalityIndex = this.config.modalities.map((name) => stats.modalities.indexOf(name));
    const out = new Float32Array(raw.length);
    nodes.forEach((node, n) => {
      const i = nodeIndex.get(node);
      for (let k = 0; k < m; k++) {
        const s = modalityIndex[k];
        const mean = s < 0 ? 0 : i === undefined ? stats.globalMean[s] : stats.mean[i * stats.modalities.length + s];
        const std = s < 0 ? 1 : i === undefined ? stats.globalStd[s] : stats.std[i * stats.modalities.length + s];
        out[n * m + k] = (raw[n * m + k] - mean) / (std > 0 ? std : 1);
      }
    });
    return out;
  }

  /**
   * Pushes one tick into each cluster's state and scores the clusters whose
   * window is full, batched: up to maxClustersPerCall clusters per model call
   * (clusters of different sizes are padded; padding never attends or is
   * attended to). The ready clusters go to the calls largest first, so that
   * each call pads to a size close to its clusters': the attention's work
   * grows with the square of the padded size.
   */
  async step(batch: ClusterStepInput[]): Promise<ClusterStepOutput[]> {
    const { modalities, window: w, context: contextConfig } = this.config;
    const m = modalities.length;
    const f = contextFeatures(contextConfig);
    const adjacencies = batch.map((input) => input.adjacency ?? subgraph(this.graph, input.state.nodes).adjacency);
    const contexts: Float32Array[] = [];
    const outputs: ClusterStepOutput[] = batch.map((input, index) => {
      pushSample(input.state, input.values, this.config);
      const { state } = input;
      const n = state.nodes.length;
      if (!state.context || !contextStateFits(state.context, n * m, contextConfig))
        state.context = createContextState(n, m, contextConfig);
      const features = new Float32Array(n * m * f);
      stepContext(state.context, input.values, graphOf(adjacencies[index]).neighbours, m, contextConfig, features);
      contexts.push(features);
      return {
        state,
        ready: state.filled >= w,
        cluster: 0,
        node: new Float32Array(n),
        reconstruction: new Float32Array(n * m),
        context: features,
      };
    });
    const ready = outputs
      .map((o, i) => (o.ready ? i : -1))
      .filter((i) => i >= 0)
      .sort((a, b) => batch[b].state.nodes.length - batch[a].state.nodes.length);
    for (let first = 0; first < ready.length; first += this.maxClustersPerCall) {
      await this.scoreReady(batch, ready.slice(first, first + this.maxClustersPerCall), adjacencies, contexts, outputs);
    }
    return outputs;
  }

  /** One model call on the ready clusters `ready` (indices into batch): scores into `outputs`, next GRU state into their states. */
  private async scoreReady(
    batch: ClusterStepInput[],
    ready: number[],
    adjacencies: number[][][],
    contexts: Float32Array[],
    outputs: ClusterStepOutput[],
  ): Promise<void> {
    const { modalities, window: w, gruUnits, gruLayers, context: contextConfig } = this.config;
    const m = modalities.length;
    const f = contextFeatures(contextConfig);
    const { b, nMax, windows, bias, nodeMask, context, hidden } = packReadyClusters(
      batch,
      ready,
      adjacencies,
      contexts,
      this.config,
    );
    const result = tf.tidy(() => {
      const out = this.network.step({
        windows: tf.tensor4d(windows, [b, nMax, m, w]),
        maskBias: tf.tensor3d(bias, [b, nMax, nMax]),
        nodeMask: tf.tensor2d(nodeMask, [b, nMax]),
        hidden: hidden.map((h) => tf.tensor2d(h, [b * nMax, gruUnits])),
        context: tf.tensor2d(context, [b * nMax, m * f]),
      });
      return [out.nodeLogits, out.clusterLogits, out.errors, ...out.hidden];
    });
    const [nodeLogits, clusterLogits, errors, ...nextHidden] = await Promise.all(
      result.map((t) => t.data() as Promise<Float32Array>),
    );
    tf.dispose(result);
    ready.forEach((index, k) => {
      const output = outputs[index];
      const n = output.state.nodes.length;
      output.cluster = sigmoid(clusterLogits[k]);
      for (let i = 0; i < n; i++) {
        output.node[i] = sigmoid(nodeLogits[k * nMax + i]);
        for (let j = 0; j < m; j++) output.reconstruction[i * m + j] = errors[(k * nMax + i) * m + j];
      }
      for (let layer = 0; layer < gruLayers; layer++) {
        output.state.hidden.set(
          nextHidden[layer].subarray(k * nMax * gruUnits, (k * nMax + n) * gruUnits),
          layer * n * gruUnits,
        );
      }
    });
  }

  /**
   * Scores the windows ending at steps from..to-1 of a z-normalized series,
   * after warming the GRU up on up to `warmup` earlier windows (the first
   * window ends at step W-1). Encoder and decoder run batched over time;
   * only the GRU advances step by step. The slow context is computed over the
   * whole series from step 0 (as a stream that started there would have it),
   * unless the caller passes it (computeSeriesContext of the same series).
   */
  async scoreSeries(
    series: Series,
    from: number,
    to: number,
    precomputedContext?: Float32Array,
  ): Promise<SeriesScores> {
    const { window: w, gruUnits, gruLayers } = this.config;
    const f = contextFeatures(this.config.context);
    const m = this.config.modalities.length;
    const n = series.nodes.length;
    this.checkScoreRange(series, from, to);
    const rows = to - from;
    const scores: SeriesScores = {
      from,
      to,
      cluster: new Float32Array(rows),
      node: new Float32Array(rows * n),
      reconstruction: new Float32Array(rows * n * m),
    };
    if (rows === 0) return scores;
    const adjacency = subgraph(this.graph, series.nodes).adjacency;
    const context = precomputedContext ?? computeContext(series.data, to, n, m, adjacency, this.config.context);
    if (context.length < to * n * m * f)
      throw new RangeError(`scoreSeries: the context holds ${context.length / (n * m * f)} steps, need ${to}`);
    const mask = attentionMask(adjacency);
    const bias1 = new Float32Array(n * n);
    for (let i = 0; i < n * n; i++) bias1[i] = mask[i] > 0 ? 0 : MASKED_LOGIT;
    let hidden: tf.Tensor2D[] = Array.from({ length: gruLayers }, () => tf.zeros([n, gruUnits]) as tf.Tensor2D);
    const start = Math.max(w - 1, from - this.warmup);
    for (let c = start; c < to; c += SCORE_CHUNK) {
      const t = Math.min(SCORE_CHUNK, to - c);
      const windows = seriesWindows(series, c, t, w);
      const bias = new Float32Array(t * n * n);
      for (let k = 0; k < t; k++) bias.set(bias1, k * n * n);
      const previous = hidden;
      const result = tf.tidy(() => {
        const windowTensor = tf.tensor4d(windows, [t, n, m, w]);
        const biasTensor = tf.tensor3d(bias, [t, n, n]);
        const contextTensor = tf.tensor2d(context.subarray(c * n * m * f, (c + t) * n * m * f), [t * n, m * f]);
        const fused = this.network.encode(windowTensor, biasTensor, contextTensor);
        let state = previous;
        const outputs: tf.Tensor2D[] = [];
        for (let k = 0; k < t; k++) {
          const next = this.network.recur(tf.slice(fused, [k * n, 0], [n, -1]), state);
          outputs.push(next.output);
          state = next.hidden;
        }
        const decoded = this.network.decode(
          windowTensor,
          biasTensor,
          tf.ones([t, n]),
          fused,
          tf.concat(outputs, 0),
          contextTensor,
        );
        return { tensors: [decoded.nodeLogits, decoded.clusterLogits, decoded.errors] as tf.Tensor[], hidden: state };
      });
      tf.dispose(previous);
      hidden = result.hidden;
      const [nodeLogits, clusterLogits, errors] = await Promise.all(
        result.tensors.map((x) => x.data() as Promise<Float32Array>),
      );
      tf.dispose(result.tensors);
      for (let k = 0; k < t; k++) {
        const row = c + k - from;
        if (row < 0) continue;
        scores.cluster[row] = sigmoid(clusterLogits[k]);
        for (let i = 0; i < n; i++) scores.node[row * n + i] = sigmoid(nodeLogits[k * n + i]);
        scores.reconstruction.set(errors.subarray(k * n * m, (k + 1) * n * m), row * n * m);
      }
    }
    tf.dispose(hidden);
    return scores;
  }

  /** Rejects a series of other modalities, or a range scoreSeries cannot score, saying which. */
  private checkScoreRange(series: Series, from: number, to: number): void {
    const w = this.config.window;
    if (series.modalities.join('\u0000') !== this.config.modalities.join('\u0000')) {
      throw new RangeError(
        `scoreSeries: series modalities [${series.modalities}] differ from the model's [${this.config.modalities}]`,
      );
    }
    if (!(from >= w - 1 && to <= series.steps && from <= to)) {
      throw new RangeError(`scoreSeries: need ${w - 1} <= from <= to <= ${series.steps}, got from=${from} to=${to}`);
    }
  }

  /** The slow context of every step of a z-normalized series on this detector's graph (what scoreSeries computes). */
  computeSeriesContext(series: Series, to = series.steps): Float32Array {
    return computeContext(
      series.data,
      to,
      series.nodes.length,
      series.modalities.length,
      subgraph(this.graph, series.nodes).adjacency,
      this.config.context,
    );
  }

  dispose(): void {
    this.network.dispose();
  }
}

/** The ready clusters' inputs of one step, padded to the largest cluster of the batch. */
interface PackedClusters {
  b: number;
  nMax: number;
  windows: Float32Array;
  bias: Float32Array;
  nodeMask: Float32Array;
  context: Float32Array;
  hidden: Float32Array[];
}

/** What a step derives from a cluster's adjacency: the attention mask and each node's neighbours. */
interface DerivedGraph {
  mask: Float32Array;
  neighbours: number[][];
}

/**
 * Derived once per adjacency, not per tick: the followed topology (and the detector service's fallback to the training
 * graph) hands the same adjacency to every tick until the cluster's node list or topology changes, and an adjacency is
 * never changed in place (a new version builds a new one).
 */
const derivedGraphs = new WeakMap<number[][], DerivedGraph>();
function graphOf(adjacency: number[][]): DerivedGraph {
  let derived = derivedGraphs.get(adjacency);
  if (!derived) {
    derived = { mask: attentionMask(adjacency), neighbours: neighbourLists(adjacency) };
    derivedGraphs.set(adjacency, derived);
  }
  return derived;
}

/**
 * Lays the ready clusters out as one padded batch: padding nodes are masked
 * out and attend only to themselves, so they never change a real node's score.
 */
function packReadyClusters(
  batch: ClusterStepInput[],
  ready: number[],
  adjacencies: number[][][],
  contexts: Float32Array[],
  config: ModelConfig,
): PackedClusters {
  const { modalities, window: w, gruUnits, gruLayers, context: contextConfig } = config;
  const m = modalities.length;
  const f = contextFeatures(contextConfig);
  const b = ready.length;
  const nMax = Math.max(...ready.map((i) => batch[i].state.nodes.length));
  const windows = new Float32Array(b * nMax * m * w);
  const bias = new Float32Array(b * nMax * nMax).fill(MASKED_LOGIT);
  const nodeMask = new Float32Array(b * nMax);
  const context = new Float32Array(b * nMax * m * f);
  const hidden = Array.from({ length: gruLayers }, () => new Float32Array(b * nMax * gruUnits));
  ready.forEach((index, k) => {
    const { state } = batch[index];
    const n = state.nodes.length;
    const { mask } = graphOf(adjacencies[index]);
    if (mask.length !== n * n)
      throw new RangeError(`step: cluster ${k} has ${n} nodes but an adjacency of ${Math.sqrt(mask.length)} rows`);
    windows.set(state.windows, k * nMax * m * w);
    context.set(contexts[index], k * nMax * m * f);
    for (let i = 0; i < nMax; i++) {
      if (i < n) nodeMask[k * nMax + i] = 1;
      for (let j = 0; j < nMax; j++) {
        const edge = i < n && j < n ? mask[i * n + j] > 0 : i === j;
        if (edge) bias[(k * nMax + i) * nMax + j] = 0;
      }
    }
    for (let layer = 0; layer < gruLayers; layer++) {
      hidden[layer].set(state.hidden.subarray(layer * n * gruUnits, (layer + 1) * n * gruUnits), k * nMax * gruUnits);
    }
  });
  return { b, nMax, windows, bias, nodeMask, context, hidden };
}

/** Windows ending at steps first..first+count-1, laid out [count, N, M, W]. */
export function seriesWindows(series: Series, first: number, count: number, w: number): Float32Array {
  const n = series.nodes.length;
  const m = series.modalities.length;
  const out = new Float32Array(count * n * m * w);
  for (let k = 0; k < count; k++) {
    const end = first + k;
    for (let s = 0; s < w; s++) {
      const t = end - w + 1 + s;
      const base = t * n * m;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) out[((k * n + i) * m + j) * w + s] = series.data[base + i * m + j];
      }
    }
  }
  return out;
}
