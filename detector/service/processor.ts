import { UserError } from '../../common/errors.ts';
import type { Alert, ClusterScore, Frame, NodeScore } from '../../common/types.ts';
import {
  ClusterAlerts,
  DEFAULT_LOCALIZATION_RATIO,
  dominatedNodes,
  thresholdOfNode,
  type AlertPolicy,
  type NodeObservation,
} from '../alerts/tracker.ts';
import { cloneClusterState, subgraph, type ClusterState, type ClusterStepInput } from '../../model/index.ts';
import { CHECKPOINT_FORMAT, sameShape, type ClusterCheckpoint, type StateShape } from '../state/checkpoint.ts';
import { missingModalities, type StreamingModel } from './model.ts';

/** Everything the detector keeps per cluster; checkpointed after each batch. */
interface ClusterRuntime {
  network: string;
  cluster: string;
  state: ClusterState;
  /** Newest tick processed; frames at or before it are duplicates. */
  lastTick: number;
  alerts: ClusterAlerts;
}

/** Per node, its graph neighbours (edge weight > 0) in the cluster; undefined entries without an adjacency (the tracker then takes the whole cluster). */
function neighbourLists(nodes: string[], adjacency: number[][] | undefined): Array<string[] | undefined> {
  if (!adjacency) return nodes.map(() => undefined);
  return nodes.map((_, i) => nodes.filter((_, j) => j !== i && (adjacency[i]?.[j] ?? 0) > 0));
}

/** The N × N adjacency of a cluster's nodes (in this order) from the live topology, if known. */
export type AdjacencyProvider = (network: string, cluster: string, nodes: string[]) => number[][] | undefined;

export interface FrameProcessorOptions {
  model: StreamingModel;
  policy: AlertPolicy;
  adjacency?: AdjacencyProvider;
  /** Wall clock for checkpoint timestamps. */
  now?: () => number;
}

export interface ProcessResult {
  /** Frames that were new and got processed, in processing order. */
  frames: Frame[];
  /** Frames skipped because their tick was already processed (at or before the cluster's last tick). */
  skipped: number;
  /** Scores of the processed frames whose window was full. */
  scores: ClusterScore[];
  /** Alert transitions (fired, resolved). */
  alerts: Alert[];
  /** Clusters whose state changed (to checkpoint). */
  clusters: string[];
  /** Model calls made (one per round of clusters with a new tick): clusters in the call and wall time. */
  modelCalls: Array<{ clusters: number; ms: number }>;
  /** Total wall time of the model calls, ms. */
  modelMs: number;
  /** Puts the touched clusters back as they were before this batch (the batch failed and will be redelivered). */
  rollback(): void;
}

/**
 * The detector's per-cluster streaming logic, free of any transport: skips
 * ticks already processed, resizes a cluster's state when its nodes change,
 * normalizes values, runs the model on all clusters that have a tick ready in
 * one call per round, scores, and feeds the alert state machine.
 */
export class FrameProcessor {
  private readonly runtimes = new Map<string, ClusterRuntime>();
  /** Checkpoints loaded from the store, used when a cluster is first seen (or is behind them). */
  private restorable = new Map<string, ClusterCheckpoint>();
  private readonly model: StreamingModel;
  private readonly shape: StateShape;
  private readonly now: () => number;

  constructor(private readonly options: FrameProcessorOptions) {
    this.model = options.model;
    const { modalities, window, gruLayers, gruUnits } = options.model.config;
    this.shape = { modalities: [...modalities], window, gruLayers, gruUnits };
    this.now = options.now ?? Date.now;
  }

  /** Clusters held in memory. */
  clusters(): string[] {
    return [...this.runtimes.keys()];
  }

  lastTick(cluster: string): number | undefined {
    return this.runtimes.get(cluster)?.lastTick;
  }

  /**
   * Takes a fresh set of checkpoints (after a rebalance). A cluster held in
   * memory that a checkpoint shows to be further along (another replica
   * processed it meanwhile) is replaced by the checkpoint.
   */
  adoptCheckpoints(checkpoints: Map<string, ClusterCheckpoint>): { restored: string[]; incompatible: string[] } {
    this.restorable = new Map();
    const incompatible: string[] = [];
    const restored: string[] = [];
    for (const [cluster, checkpoint] of checkpoints) {
      if (!sameShape(checkpoint.shape, this.shape)) {
        incompatible.push(cluster);
        continue;
      }
      this.restorable.set(cluster, checkpoint);
      const runtime = this.runtimes.get(cluster);
      if (runtime && checkpoint.lastTick > runtime.lastTick) {
        this.runtimes.set(cluster, this.fromCheckpoint(checkpoint));
        restored.push(cluster);
      }
    }
    return { restored, incompatible };
  }

  /** Forgets a cluster this replica no longer owns. */
  drop(cluster: string): void {
    this.runtimes.delete(cluster);
  }

  checkpoint(cluster: string): ClusterCheckpoint {
    const runtime = this.runtimes.get(cluster);
    if (!runtime) throw new Error(`no state for cluster ${cluster}`);
    const { state } = runtime;
    return {
      format: CHECKPOINT_FORMAT,
      network: runtime.network,
      cluster,
      lastTick: runtime.lastTick,
      shape: this.shape,
      state: cloneClusterState(state),
      alerts: runtime.alerts.toJSON(),
      savedAt: this.now(),
    };
  }

  /** Alerts firing in the clusters held here. */
  firingAlerts(): Alert[] {
    return [...this.runtimes.values()].flatMap((runtime) => runtime.alerts.firing());
  }

  async process(frames: Frame[]): Promise<ProcessResult> {
    // Per cluster, new frames in tick order (duplicates within the batch dropped).
    const queues = new Map<string, Frame[]>();
    let skipped = 0;
    for (const frame of frames) {
      const last = this.runtimes.get(frame.cluster)?.lastTick ?? this.restorableTick(frame.cluster);
      if (last !== undefined && frame.tick <= last) {
        skipped += 1;
        continue;
      }
      let queue = queues.get(frame.cluster);
      if (!queue) queues.set(frame.cluster, (queue = []));
      queue.push(frame);
    }
    for (const queue of queues.values()) {
      queue.sort((a, b) => a.tick - b.tick);
      for (let i = queue.length - 1; i > 0; i--) {
        if (queue[i].tick === queue[i - 1].tick) {
          queue.splice(i, 1);
          skipped += 1;
        }
      }
    }

    const before = new Map<string, ClusterRuntime | undefined>();
    for (const cluster of queues.keys()) {
      const runtime = this.runtimes.get(cluster);
      before.set(cluster, runtime ? this.cloneRuntime(runtime) : undefined);
    }
    const rollback = (): void => {
      for (const [cluster, runtime] of before) {
        if (runtime) this.runtimes.set(cluster, runtime);
        else this.runtimes.delete(cluster);
      }
    };

    const result: ProcessResult = {
      frames: [],
      skipped,
      scores: [],
      alerts: [],
      clusters: [...queues.keys()],
      modelCalls: [],
      modelMs: 0,
      rollback,
    };
    try {
      // Round r takes the r-th new frame of every cluster: clusters ready together share one model call.
      for (let round = 0; ; round++) {
        const due = [...queues.values()]
          .map((queue) => queue[round])
          .filter((frame): frame is Frame => frame !== undefined);
        if (due.length === 0) break;
        await this.runRound(due, result);
      }
    } catch (error) {
      rollback();
      throw error;
    }
    return result;
  }

  /** One frame's model input: its cluster's state (resized when the nodes changed), values and graph. */
  private prepareStep(frame: Frame): {
    input: ClusterStepInput;
    runtime: ClusterRuntime;
    neighbours: Array<string[] | undefined>;
  } {
    const { modalities } = this.shape;
    const m = modalities.length;
    this.checkModalities(frame);
    const runtime = this.runtimeFor(frame);
    const nodes = frame.nodes.map((node) => node.node);
    if (nodes.join('\u0000') !== runtime.state.nodes.join('\u0000'))
      runtime.state = this.model.resizeState(runtime.state, nodes);
    runtime.network = frame.network;
    const raw = new Float32Array(nodes.length * m);
    frame.nodes.forEach((node, n) => {
      modalities.forEach((modality, k) => {
        const value = node.values[modality];
        // NaN = missing: the model repeats the node's previous sample.
        raw[n * m + k] = value === null || value === undefined || !Number.isFinite(value) ? Number.NaN : value;
      });
    });
    const adjacency = this.options.adjacency?.(frame.network, frame.cluster, nodes);
    const input: ClusterStepInput = {
      state: runtime.state,
      values: this.model.normalizeValues(nodes, raw),
      ...(adjacency ? { adjacency } : {}),
    };
    const neighbours = neighbourLists(
      nodes,
      adjacency ?? (this.model.graph ? subgraph(this.model.graph, nodes).adjacency : undefined),
    );
    return { input, runtime, neighbours };
  }

  private async runRound(frames: Frame[], result: ProcessResult): Promise<void> {
    const { modalities } = this.shape;
    const m = modalities.length;
    const inputs: ClusterStepInput[] = [];
    const runtimes: ClusterRuntime[] = [];
    const neighbours: Array<Array<string[] | undefined>> = [];
    for (const frame of frames) {
      const prepared = this.prepareStep(frame);
      inputs.push(prepared.input);
      runtimes.push(prepared.runtime);
      neighbours.push(prepared.neighbours);
    }
    const started = performance.now();
    const outputs = await this.model.step(inputs);
    const ms = performance.now() - started;
    result.modelMs += ms;
    result.modelCalls.push({ clusters: inputs.length, ms });

    outputs.forEach((output, i) => {
      const frame = frames[i];
      const runtime = runtimes[i];
      runtime.state = output.state;
      const observations: NodeObservation[] = [];
      const nodeScores: NodeScore[] = [];
      frame.nodes.forEach((node, n) => {
        const reconstructionError: Record<string, number> = {};
        let errorSum = 0;
        modalities.forEach((modality, k) => {
          const error = output.ready ? output.reconstruction[n * m + k] : 0;
          reconstructionError[modality] = error;
          errorSum += error;
        });
        const probability = output.node[n];
        // The slow context (levels against the neighbours, hours of segment means) is cold at the stream's
        // start: scores are written, but no tick counts as anomalous and no alert fires before it has warmed up.
        const judged = output.ready && contextWarm(output.state, this.model.config.context?.warmupTicks ?? 0);
        if (output.ready) {
          nodeScores.push({
            node: node.node,
            probability,
            score: errorSum / m,
            reconstructionError,
            // A node's threshold raised by feedback counts here too, for the modality this tick blames.
            isAnomaly:
              judged &&
              probability > thresholdOfNode(this.options.policy, frame.network, node.node, reconstructionError),
          });
        }
        const around = neighbours[i][n];
        observations.push({
          node: node.node,
          probability: judged ? probability : null,
          reconstructionError,
          silent: node.silent,
          ...(around ? { neighbours: around } : {}),
        });
      });
      if (output.ready) {
        // is_anomaly is the tracker's verdict for the tick: above the threshold and not explained by a stronger neighbour.
        const { policy } = this.options;
        const dominated = dominatedNodes(
          observations,
          policy.threshold,
          policy.localizationRatio ?? DEFAULT_LOCALIZATION_RATIO,
        );
        for (const score of nodeScores) if (dominated.has(score.node)) score.isAnomaly = false;
        result.scores.push({
          network: frame.network,
          cluster: frame.cluster,
          tick: frame.tick,
          probability: output.cluster,
          nodes: nodeScores,
        });
      }
      result.alerts.push(...runtime.alerts.observe(frame.tick, observations));
      runtime.lastTick = frame.tick;
      result.frames.push(frame);
    });
  }

  private checkModalities(frame: Frame): void {
    const present = new Set<string>();
    for (const node of frame.nodes) for (const modality of Object.keys(node.values)) present.add(modality);
    if (frame.nodes.length === 0) return;
    const missing = missingModalities(this.model, present);
    if (missing.length > 0) {
      throw new UserError(
        'MODEL_MISMATCH',
        `frames of cluster ${frame.cluster} (network ${frame.network}) carry modalities [${[...present].join(', ')}], but the model needs [${this.shape.modalities.join(', ')}] (missing: ${missing.join(', ')})`,
        'train a model on the modalities the sensors report (`wsn-watch train`) and point detector.model to it',
      );
    }
  }

  private restorableTick(cluster: string): number | undefined {
    return this.restorable.get(cluster)?.lastTick;
  }

  private runtimeFor(frame: Frame): ClusterRuntime {
    let runtime = this.runtimes.get(frame.cluster);
    if (runtime) return runtime;
    const checkpoint = this.restorable.get(frame.cluster);
    runtime = checkpoint
      ? this.fromCheckpoint(checkpoint)
      : {
          network: frame.network,
          cluster: frame.cluster,
          state: this.model.createState(frame.nodes.map((node) => node.node)),
          lastTick: Number.NEGATIVE_INFINITY,
          alerts: new ClusterAlerts(frame.network, frame.cluster, this.options.policy),
        };
    this.runtimes.set(frame.cluster, runtime);
    return runtime;
  }

  private fromCheckpoint(checkpoint: ClusterCheckpoint): ClusterRuntime {
    const { state } = checkpoint;
    return {
      network: checkpoint.network,
      cluster: checkpoint.cluster,
      state: cloneClusterState(state),
      lastTick: checkpoint.lastTick,
      alerts: new ClusterAlerts(checkpoint.network, checkpoint.cluster, this.options.policy, checkpoint.alerts),
    };
  }

  private cloneRuntime(runtime: ClusterRuntime): ClusterRuntime {
    const { state } = runtime;
    return {
      ...runtime,
      state: cloneClusterState(state),
      alerts: new ClusterAlerts(runtime.network, runtime.cluster, this.options.policy, runtime.alerts.toJSON()),
    };
  }
}

/** Whether a cluster's slow context has seen `warmupTicks` ticks (a state without context counts as warm). */
function contextWarm(state: ClusterState, warmupTicks: number): boolean {
  return (state.context?.ticks ?? Number.POSITIVE_INFINITY) >= warmupTicks;
}
