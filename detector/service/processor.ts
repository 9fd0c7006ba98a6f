import { UserError } from '../../common/errors.ts';
import type { Alert, ClusterScore, Frame } from '../../common/types.ts';
import { ClusterAlerts, type AlertPolicy } from '../alerts/tracker.ts';
import {
  cloneClusterState,
  subgraph,
  type ClusterGraph,
  type ClusterState,
  type ClusterStepInput,
  type ClusterStepOutput,
} from '../../model/index.ts';
import {
  DEFAULT_TOPOLOGY_ALERT_MS,
  listedBefore,
  nodeChanges,
  TopologyAlerts,
  type HeldTopologyAlert,
  type ListedNodes,
  type NodeChange,
  type TopologyChangeSource,
} from '../alerts/topology-changes.ts';
import { StuckReadings } from '../alerts/stuck.ts';
import { ReadingJumps } from '../alerts/jumps.ts';
import type { Undoable } from '../alerts/undo-log.ts';
import { CHECKPOINT_FORMAT, sameShape, type ClusterCheckpoint, type StateShape } from '../state/checkpoint.ts';
import type { ShadowScore } from '../../store/shadow.ts';
import { rawValues } from './frame-values.ts';
import { missingModalities, type StreamingModel } from './model.ts';
import { ModelSwitch, type ModelSlot, type Swap, type SwapPlan } from './model-swap.ts';
import { snapshotForBatch } from './batch-snapshot.ts';
import { candidateBeforeBatch, ShadowScorer, type CandidateState } from './shadow.ts';
import { judgeFrame, stillWarming } from './verdicts.ts';

/** Ticks without a frame after which a cluster no longer holds a model swap open (an hour at 31 s). */
export const STALE_AFTER_TICKS = 120;

/** Everything the detector keeps per cluster; checkpointed after each batch. */
interface ClusterRuntime {
  network: string;
  cluster: string;
  state: ClusterState;
  /** Newest tick processed; frames at or before it are duplicates. */
  lastTick: number;
  alerts: ClusterAlerts;
  /** The model version scoring this cluster now. */
  slot: ModelSlot;
  /** During a swap: the new version's state, warming up beside `state` until the switch tick. */
  shadow?: ClusterState;
  /** While a candidate version is shadow-scored: its state and alert tracker for this cluster (shadow.ts). */
  candidate?: CandidateState;
  /** Informational alerts naming the topology changes of this cluster's nodes. */
  topology: TopologyAlerts;
  /** The nodes' runs of equal readings, for stuck-at faults (learnt whatever the model version). */
  stuck: StuckReadings;
  /** The nodes' usual jumps of their readings, for sudden ones. */
  jumps: ReadingJumps;
  /** Nodes new to the cluster (added, or moved in) and the tick they joined: not judged until their window and context are warm. */
  joined: Map<string, number>;
  /** The topology version of the cluster's last frame (unknown after a restart). */
  topologyVersion?: string;
  /** A change whose naming waits for the followed topology to know the frame's version: the list before it, and its first tick. */
  pendingChange?: ListedNodes & { since: number };
  /** The graph the last frame was prepared with, reused while the node list and its source stay the same. */
  graph?: PreparedGraph;
}

/**
 * A cluster's graph as a frame's step needs it: the adjacency of its nodes (in the frame's order) and each node's
 * neighbours. Frames list the same nodes tick after tick, so it is worked out when the list or its source (the followed
 * topology's adjacency, or the model's training graph) changes, not per frame.
 */
interface PreparedGraph {
  nodes: readonly string[];
  source: number[][] | ClusterGraph | undefined;
  adjacency: number[][] | undefined;
  neighbours: Array<string[] | undefined>;
}

function sameNodes(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Ticks a change waits for the followed topology to know its version before it is named from the node lists alone. */
export const TOPOLOGY_WAIT_TICKS = 10;

/** A frame's node changes and the tick they first showed. */
interface TimedChanges {
  changes: NodeChange[];
  since: number;
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
  /** The model's version label on every score (registry version or folder); none by default. */
  version?: string;
  /** Frees the model; called when a swap leaves it unused or at dispose(). Default: the caller keeps it. */
  disposeModel?(): void;
  /** Tick length: a promoted version starts warming up one tick after the newest processed one. */
  tickMs?: number;
  /** The followed topology, to tell moves from additions and removals (without it: added and removed only). */
  topologyChanges?: TopologyChangeSource;
  /** How long (event time) a topology alert fires before it resolves by itself, ms. */
  topologyAlertMs?: number;
}

/** A cluster that changed model version at a tick of this batch. */
export interface ClusterSwitch {
  cluster: string;
  from: string;
  to: string;
  tick: number;
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
  /** Clusters that changed to a newly promoted version in this batch. */
  switched: ClusterSwitch[];
  /** Node changes seen in the frames' node lists (each also fires a `topology` alert). */
  topologyChanges: Array<NodeChange & { cluster: string; tick: number }>;
  /** Node-ticks scored but not judged because the node joined its cluster less than a window (and context warm-up) ago. */
  warmingNodeTicks: number;
  /** Node-ticks scored by the shadowing candidate version (none without one). */
  shadow: ShadowScore[];
  /** Anomaly alerts the candidate's own tracker opened in this batch: counted, never routed. */
  shadowAlerts: Alert[];
  /** Puts the touched clusters back as they were before this batch (the batch failed and will be redelivered). */
  rollback(): void;
  /** The batch went through (its results are delivered): frees what its rollback kept. Until then, or the next batch. */
  settle(): void;
}

/**
 * The detector's per-cluster streaming logic, free of any transport: skips
 * ticks already processed, resizes a cluster's state when its nodes change,
 * normalizes values, runs the model on all clusters that have a tick ready in
 * one call per round, scores, and feeds the alert state machine.
 */
export class FrameProcessor {
  private readonly runtimes = new Map<string, ClusterRuntime>();
  /** Checkpoints loaded from the store for clusters not held yet, used when a cluster is first seen. */
  private restorable = new Map<string, ClusterCheckpoint>();
  private readonly models: ModelSwitch;
  private readonly now: () => number;
  /** The candidate version shadow-scored beside the live one, if any. */
  private shadowScorer: ShadowScorer | undefined;
  /** Batches that can still be rolled back: each one's clusters and the statistics keeping an undo log for it. */
  private unsettled = new Set<UnsettledBatch>();

  constructor(private readonly options: FrameProcessorOptions) {
    const initial: ModelSlot = {
      version: options.version ?? '',
      model: options.model,
      policy: options.policy,
      ...(options.disposeModel ? { dispose: once(options.disposeModel) } : {}),
    };
    this.models = new ModelSwitch(initial, options.tickMs ?? 1);
    this.now = options.now ?? Date.now;
  }

  /** The version this processor scores with, or is moving to. */
  get modelVersion(): string {
    return this.models.target.version;
  }

  /** Frees every model version it holds (the service is stopped). */
  dispose(): void {
    this.models.dispose();
    this.shadowScorer?.slot.dispose?.();
  }

  /** The version shadow-scored beside the live one, if any. */
  get shadowVersion(): string | undefined {
    return this.shadowScorer?.version;
  }

  /**
   * Starts shadow-scoring `slot` beside the live version (undefined: stops
   * the shadow); call between batches. The previous candidate is freed.
   */
  shadowWith(slot: ModelSlot | undefined): void {
    const previous = this.shadowScorer;
    this.shadowScorer = slot ? new ShadowScorer(slot, this.options.tickMs ?? 1) : undefined;
    if (previous && previous.slot !== slot) previous.slot.dispose?.();
    if (!slot) for (const runtime of this.runtimes.values()) runtime.candidate = undefined;
  }

  /** The swap in progress, if any. */
  swapInProgress(): Swap | undefined {
    return this.models.inProgress();
  }

  /**
   * Hands over a newly promoted version; call between batches. It warms up
   * beside the current one for `warmupTicks` from the tick after the newest
   * processed one, then scores (model-swap.ts).
   */
  promote(slot: ModelSlot, warmupTicks: number): SwapPlan {
    const plan = this.models.schedule(slot, warmupTicks, this.newestTick());
    if (plan.kind === 'immediate') plan.from.dispose?.();
    // The version in use (or on its way) promoted again, e.g. a rollback after a refused version: this copy is not needed.
    if (plan.kind === 'unchanged') slot.dispose?.();
    return plan;
  }

  /**
   * Between batches: finishes a swap every cluster has made (and starts a
   * queued one). A cluster that has had no frame for STALE_AFTER_TICKS while
   * the others passed the switch tick (removed from the topology, say) is
   * moved to the new version now, so it does not hold the swap open for ever.
   */
  settle(): { finished?: Swap; next?: SwapPlan; forced: string[] } {
    const newest = this.newestTick();
    const swap = this.models.inProgress();
    const forced: string[] = [];
    if (swap && newest !== undefined && newest >= swap.switchTick) {
      const staleBefore = newest - STALE_AFTER_TICKS * (this.options.tickMs ?? 1);
      for (const runtime of this.runtimes.values()) {
        if (runtime.slot !== swap.from || runtime.lastTick >= staleBefore) continue;
        runtime.state = runtime.shadow ?? swap.to.model.createState(runtime.state.nodes);
        runtime.shadow = undefined;
        runtime.slot = swap.to;
        runtime.alerts.usePolicy(swap.to.policy);
        forced.push(runtime.cluster);
      }
    }
    const inUse = new Set([...this.runtimes.values()].map((runtime) => runtime.slot));
    return { ...this.models.settle(inUse, newest), forced };
  }

  /** The newest tick processed over the clusters held here (undefined: none). */
  private newestTick(): number | undefined {
    const ticks = [...this.runtimes.values()].map((runtime) => runtime.lastTick).filter(Number.isFinite);
    return ticks.length > 0 ? Math.max(...ticks) : undefined;
  }

  /** Clusters held in memory. */
  clusters(): string[] {
    return [...this.runtimes.keys()];
  }

  /** Clusters held whose last scored tick is `tick`. */
  *clustersAt(tick: number): Generator<string> {
    for (const [cluster, runtime] of this.runtimes) if (runtime.lastTick === tick) yield cluster;
  }

  lastTick(cluster: string): number | undefined {
    return this.runtimes.get(cluster)?.lastTick;
  }

  /**
   * Takes a fresh set of checkpoints (after a rebalance). A cluster held in
   * memory that a checkpoint shows to be further along (another replica
   * processed it meanwhile) is replaced by the checkpoint.
   */
  adoptCheckpoints(checkpoints: Map<string, ClusterCheckpoint>): {
    restored: string[];
    incompatible: string[];
    /** Checkpoints of another model version, carried into the version in use (the shapes match). */
    carried: string[];
  } {
    this.restorable = new Map();
    const incompatible: string[] = [];
    const restored: string[] = [];
    const carried: string[] = [];
    for (const [cluster, checkpoint] of checkpoints) {
      const slot = this.models.slotAt(checkpoint.lastTick + 1);
      if (!sameShape(checkpoint.shape, shapeOf(slot.model))) {
        incompatible.push(cluster);
        continue;
      }
      if (checkpoint.model !== undefined && slot.version && checkpoint.model !== slot.version) carried.push(cluster);
      const runtime = this.runtimes.get(cluster);
      if (!runtime) {
        // Kept until the cluster's first frame builds its runtime from it (settleBatch lets it go then).
        this.restorable.set(cluster, checkpoint);
      } else if (checkpoint.lastTick > runtime.lastTick) {
        this.runtimes.set(cluster, this.fromCheckpoint(checkpoint));
        restored.push(cluster);
      }
    }
    return { restored, incompatible, carried };
  }

  /** Forgets a cluster this replica no longer owns. */
  drop(cluster: string): void {
    const runtime = this.runtimes.get(cluster);
    for (const statistics of runtime ? [runtime.stuck, runtime.jumps] : []) {
      statistics.dropUndo();
      for (const batch of this.unsettled) batch.undoing.delete(statistics);
    }
    for (const batch of this.unsettled) batch.clusters.delete(cluster);
    this.runtimes.delete(cluster);
  }

  /** Ends the undo logs of a batch: it can no longer be rolled back. */
  private settleBatch(batch: UnsettledBatch): void {
    if (!this.unsettled.delete(batch)) return;
    for (const statistics of batch.undoing) statistics.dropUndo();
    // A runtime built from a checkpoint holds a copy of it; the checkpoint was kept only for a rollback of that batch.
    for (const cluster of batch.clusters) if (this.runtimes.has(cluster)) this.restorable.delete(cluster);
  }

  /**
   * A cluster's checkpoint with a copy of its state, which stays as it is
   * while the cluster goes on. With `shareState`, the checkpoint shares the
   * live state's typed arrays instead (no copy of a few hundred KB): it is
   * valid until the next `process`, so encode it before then.
   */
  checkpoint(cluster: string, options: { shareState?: boolean } = {}): ClusterCheckpoint {
    const runtime = this.runtimes.get(cluster);
    if (!runtime) throw new Error(`no state for cluster ${cluster}`);
    const state = options.shareState ? runtime.state : cloneClusterState(runtime.state);
    return {
      format: CHECKPOINT_FORMAT,
      network: runtime.network,
      cluster,
      lastTick: runtime.lastTick,
      shape: shapeOf(runtime.slot.model),
      state,
      alerts: runtime.alerts.toJSON(),
      ...budgetField(runtime.alerts),
      ...(runtime.slot.policy.stuck ? { packedStuck: runtime.stuck.pack() } : {}),
      ...(runtime.slot.policy.jumps ? { packedJumps: runtime.jumps.pack() } : {}),
      ...(runtime.joined.size > 0 ? { joined: Object.fromEntries(runtime.joined) } : {}),
      ...topologyAlertsField(runtime.topology),
      savedAt: this.now(),
      model: runtime.slot.version,
    };
  }

  /** The alert threshold in force per cluster held here (above the policy's where its false-alert budget raised it). */
  alertThresholds(): Map<string, number> {
    return new Map([...this.runtimes].map(([cluster, runtime]) => [cluster, runtime.alerts.threshold()]));
  }

  /** Alerts firing in the clusters held here. */
  firingAlerts(): Alert[] {
    const alerts: Alert[] = [];
    for (const runtime of this.runtimes.values()) alerts.push(...runtime.alerts.firing(), ...runtime.topology.firing());
    return alerts;
  }

  /**
   * Scores a batch of frames. Unless `besideUnsettled`, the batches before it can no longer be rolled back. With it,
   * they stay open (their delivery is still under way) and this batch may touch none of their clusters: the caller
   * waits for a batch to settle before it scores a cluster of it again.
   */
  async process(frames: Frame[], options: { besideUnsettled?: boolean } = {}): Promise<ProcessResult> {
    if (!options.besideUnsettled) for (const batch of [...this.unsettled]) this.settleBatch(batch);
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

    for (const open of this.unsettled)
      for (const cluster of queues.keys())
        if (open.clusters.has(cluster))
          throw new Error(
            `cluster ${cluster} is in a batch not settled yet: settle it before scoring the cluster again`,
          );
    const batch: UnsettledBatch = { clusters: new Set(queues.keys()), undoing: new Set() };
    this.unsettled.add(batch);
    const before = new Map<string, { runtime: ClusterRuntime; restore: () => void } | undefined>();
    for (const [cluster, queue] of queues) {
      const runtime = this.runtimes.get(cluster);
      before.set(cluster, runtime ? this.snapshotRuntime(runtime, queue.length, batch.undoing) : undefined);
    }
    const rollback = (): void => {
      // Its undo logs are spent: a later batch of its clusters keeps logs of its own, which settling this one must not end.
      this.unsettled.delete(batch);
      for (const [cluster, snapshot] of before) {
        // A cluster dropped meanwhile (this replica lost it) stays dropped.
        if (!batch.clusters.has(cluster)) continue;
        if (!snapshot) {
          this.runtimes.delete(cluster);
          continue;
        }
        snapshot.restore();
        this.runtimes.set(cluster, snapshot.runtime);
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
      switched: [],
      topologyChanges: [],
      warmingNodeTicks: 0,
      shadow: [],
      shadowAlerts: [],
      rollback,
      settle: () => this.settleBatch(batch),
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
  private prepareStep(frame: Frame, result: ProcessResult): PreparedStep {
    const runtime = this.runtimeFor(frame);
    this.switchIfDue(runtime, frame, result);
    const { model } = runtime.slot;
    this.checkModalities(frame, model);
    const nodes = frame.nodes.map((node) => node.node);
    const changes = this.nodeChanges(runtime, frame, nodes);
    if (!sameNodes(nodes, runtime.state.nodes)) runtime.state = model.resizeState(runtime.state, nodes);
    runtime.network = frame.network;
    const raw = rawValues(frame, model.config.modalities);
    const followed = this.options.adjacency?.(frame.network, frame.cluster, nodes);
    const { adjacency, neighbours } = this.graphFor(runtime, nodes, followed, model.graph);
    const input: ClusterStepInput = {
      state: runtime.state,
      values: model.normalizeValues(nodes, raw),
      ...(adjacency ? { adjacency } : {}),
    };
    // A shadowed candidate has a graph of its own: it gets only the followed topology.
    return { frame, input, runtime, neighbours, changes, shadow: this.shadowInput(runtime, frame, nodes, followed) };
  }

  /**
   * The graph of a frame's nodes: the followed topology's adjacency, or without one the model's own graph restricted
   * to the frame's nodes (worked out here for the neighbours and handed to the model, which would otherwise work it out
   * again); the last frame's when the nodes and the source are the same.
   */
  private graphFor(
    runtime: ClusterRuntime,
    nodes: string[],
    followed: number[][] | undefined,
    modelGraph: ClusterGraph | undefined,
  ): PreparedGraph {
    const source = followed ?? modelGraph;
    const last = runtime.graph;
    if (last && last.source === source && sameNodes(last.nodes, nodes)) return last;
    const adjacency = followed ?? (modelGraph ? subgraph(modelGraph, nodes).adjacency : undefined);
    const graph = { nodes, source, adjacency, neighbours: neighbourLists(nodes, adjacency) };
    runtime.graph = graph;
    return graph;
  }

  /**
   * The node changes a frame shows against the cluster's previous node list.
   * A node new to the cluster starts from a fresh (zero) window and hidden
   * state (model resizeState), so it is remembered as joined and not judged
   * until it has warmed up; a removed node is forgotten. Naming the changes
   * may wait a few ticks for the followed topology to know the frame's
   * version (changes.ts); the alerts then start at the change's first tick.
   */
  private nodeChanges(runtime: ClusterRuntime, frame: Frame, nodes: string[]): TimedChanges {
    const listed = new Set(runtime.state.nodes);
    const current = new Set(nodes);
    for (const node of nodes) if (!listed.has(node)) runtime.joined.set(node, frame.tick);
    for (const node of listed) if (!current.has(node)) runtime.joined.delete(node);

    const from = runtime.pendingChange ?? { ...this.listedBefore(runtime, frame), since: frame.tick };
    if (sameNodes(from.nodes, nodes) && (from.version === frame.topologyVersion || from.version === undefined)) {
      runtime.pendingChange = undefined;
      runtime.topologyVersion = frame.topologyVersion;
      return { changes: [], since: frame.tick };
    }
    const to = { version: frame.topologyVersion, nodes };
    const waited = (frame.tick - from.since) / (this.options.tickMs ?? 1);
    const source = waited < TOPOLOGY_WAIT_TICKS ? this.options.topologyChanges : undefined;
    const changes = nodeChanges(frame.cluster, from, to, source);
    if (changes === undefined) {
      runtime.pendingChange = from;
      return { changes: [], since: frame.tick };
    }
    runtime.pendingChange = undefined;
    runtime.topologyVersion = frame.topologyVersion;
    return { changes, since: from.since };
  }

  /** The cluster's node list before this frame; for a cluster new to this replica, as the previous topology version had it. */
  private listedBefore(runtime: ClusterRuntime, frame: Frame): ListedNodes {
    const fresh = runtime.lastTick === Number.NEGATIVE_INFINITY && runtime.topologyVersion === undefined;
    const before = fresh ? listedBefore(frame.cluster, frame.topologyVersion, this.options.topologyChanges) : undefined;
    return before ?? { version: runtime.topologyVersion, nodes: runtime.state.nodes };
  }

  /** Whether a node joined its cluster too recently to be judged: its window and context are still filling. */
  private warming(runtime: ClusterRuntime, node: string, tick: number): boolean {
    const joined = runtime.joined.get(node);
    if (stillWarming(joined, tick, runtime.slot.model.config, this.options.tickMs ?? 1)) return true;
    // Warm (or never new): forgotten, so later ticks need not ask again.
    runtime.joined.delete(node);
    return false;
  }

  /** During a swap, from its start tick: the new version's input for this frame (its own state and normalization). */
  private shadowInput(
    runtime: ClusterRuntime,
    frame: Frame,
    nodes: string[],
    adjacency: number[][] | undefined,
  ): ClusterStepInput | undefined {
    const swap = this.models.inProgress();
    if (!swap || runtime.slot === swap.to || frame.tick < swap.startTick) return undefined;
    const { model } = swap.to;
    this.checkModalities(frame, model);
    let state = runtime.shadow ?? model.createState(nodes);
    if (nodes.join('\u0000') !== state.nodes.join('\u0000')) state = model.resizeState(state, nodes);
    runtime.shadow = state;
    return {
      state,
      values: model.normalizeValues(nodes, rawValues(frame, model.config.modalities)),
      ...(adjacency ? { adjacency } : {}),
    };
  }

  /** At the swap's switch tick the cluster changes to the new version, with the state it warmed up. */
  private switchIfDue(runtime: ClusterRuntime, frame: Frame, result: ProcessResult): void {
    const swap = this.models.inProgress();
    if (!swap || runtime.slot === swap.to || frame.tick < swap.switchTick) return;
    const nodes = frame.nodes.map((node) => node.node);
    result.switched.push({
      cluster: runtime.cluster,
      from: runtime.slot.version,
      to: swap.to.version,
      tick: frame.tick,
    });
    runtime.state = runtime.shadow ?? swap.to.model.createState(nodes);
    runtime.shadow = undefined;
    runtime.slot = swap.to;
    runtime.alerts.usePolicy(swap.to.policy);
  }

  private async runRound(frames: Frame[], result: ProcessResult): Promise<void> {
    const prepared = frames.map((frame) => this.prepareStep(frame, result));
    const outputs = new Map<PreparedStep, ClusterStepOutput>();
    // One model call per version in force (usually one), plus one for the states warming up.
    for (const slot of new Set(prepared.map((step) => step.runtime.slot))) {
      const steps = prepared.filter((step) => step.runtime.slot === slot);
      const stepOutputs = await this.timedStep(
        slot.model,
        steps.map((step) => step.input),
        result,
      );
      steps.forEach((step, i) => outputs.set(step, stepOutputs[i]));
    }
    const warming = prepared.filter((step) => step.shadow !== undefined);
    const swap = this.models.inProgress();
    if (swap && warming.length > 0) {
      const shadowOutputs = await swap.to.model.step(warming.map((step) => step.shadow as ClusterStepInput));
      warming.forEach((step, i) => (step.runtime.shadow = shadowOutputs[i].state));
    }
    if (this.shadowScorer) {
      // After the live calls, from the same inputs: the live state and verdicts never see the candidate.
      const round = await this.shadowScorer.score(
        prepared.map(({ frame, input, neighbours, runtime }) => ({
          frame,
          ...(input.adjacency ? { adjacency: input.adjacency } : {}),
          neighbours,
          joined: runtime.joined,
          holder: runtime,
        })),
      );
      result.shadow.push(...round.scores);
      result.shadowAlerts.push(...round.started);
    }
    for (const step of prepared) this.record(step, outputs.get(step) as ClusterStepOutput, result);
  }

  private async timedStep(
    model: StreamingModel,
    inputs: ClusterStepInput[],
    result: ProcessResult,
  ): Promise<ClusterStepOutput[]> {
    const started = performance.now();
    const outputs = await model.step(inputs);
    const ms = performance.now() - started;
    result.modelMs += ms;
    result.modelCalls.push({ clusters: inputs.length, ms });
    return outputs;
  }

  /** One frame's output: its score (when the window is full), the alert tracker's transitions, the new last tick. */
  private record(step: PreparedStep, output: ClusterStepOutput, result: ProcessResult): void {
    const { frame, runtime, changes, neighbours } = step;
    const { policy, version, model } = runtime.slot;
    runtime.state = output.state;
    const verdicts = judgeFrame(
      { policy, alerts: runtime.alerts, stuck: runtime.stuck, jumps: runtime.jumps },
      { frame, output, config: model.config, neighbours, warming: (node) => this.warming(runtime, node, frame.tick) },
    );
    result.warmingNodeTicks += verdicts.warmingNodeTicks;
    if (output.ready) {
      result.scores.push({
        network: frame.network,
        cluster: frame.cluster,
        tick: frame.tick,
        probability: output.cluster,
        nodes: verdicts.nodeScores,
        ...(version ? { model: version } : {}),
      });
    }
    result.alerts.push(...verdicts.alerts);
    result.alerts.push(...runtime.topology.observe(frame.tick, changes.changes, frame.topologyVersion, changes.since));
    for (const change of changes.changes)
      result.topologyChanges.push({ ...change, cluster: frame.cluster, tick: changes.since });
    runtime.lastTick = frame.tick;
    result.frames.push(frame);
  }

  private checkModalities(frame: Frame, model: StreamingModel): void {
    const present = new Set<string>();
    for (const node of frame.nodes) for (const modality of Object.keys(node.values)) present.add(modality);
    if (frame.nodes.length === 0) return;
    const missing = missingModalities(model, present);
    if (missing.length > 0) {
      throw new UserError(
        'MODEL_MISMATCH',
        `frames of cluster ${frame.cluster} (network ${frame.network}) carry modalities [${[...present].join(', ')}], but the model needs [${model.config.modalities.join(', ')}] (missing: ${missing.join(', ')})`,
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
    const slot = this.models.slotAt(frame.tick);
    runtime = checkpoint
      ? this.fromCheckpoint(checkpoint)
      : {
          network: frame.network,
          cluster: frame.cluster,
          state: slot.model.createState(frame.nodes.map((node) => node.node)),
          lastTick: Number.NEGATIVE_INFINITY,
          alerts: new ClusterAlerts(frame.network, frame.cluster, slot.policy),
          slot,
          topology: this.topologyAlerts(frame.network, frame.cluster, slot.policy),
          stuck: new StuckReadings(),
          jumps: new ReadingJumps(),
          joined: new Map(),
        };
    this.runtimes.set(frame.cluster, runtime);
    return runtime;
  }

  /**
   * A checkpointed cluster continues with the version in force at its next
   * tick. A checkpoint of another version of the same shape is carried as it
   * is (a restart after a promotion): it would take a loaded old version to
   * warm the new one up beside it.
   */
  private fromCheckpoint(checkpoint: ClusterCheckpoint): ClusterRuntime {
    const { state } = checkpoint;
    const slot = this.models.slotAt(checkpoint.lastTick + 1);
    return {
      network: checkpoint.network,
      cluster: checkpoint.cluster,
      state: cloneClusterState(state),
      lastTick: checkpoint.lastTick,
      alerts: new ClusterAlerts(
        checkpoint.network,
        checkpoint.cluster,
        slot.policy,
        checkpoint.alerts,
        // A checkpoint of another version carries no budget over: that model's scores were another distribution.
        checkpoint.model === slot.version ? checkpoint.alertBudget : undefined,
      ),
      slot,
      topology: this.topologyAlerts(checkpoint.network, checkpoint.cluster, slot.policy, checkpoint.topologyAlerts),
      stuck: new StuckReadings(checkpoint.packedStuck ?? checkpoint.stuck),
      jumps: new ReadingJumps(checkpoint.packedJumps ?? checkpoint.jumps),
      joined: new Map(Object.entries(checkpoint.joined ?? {})),
    };
  }

  private topologyAlerts(
    network: string,
    cluster: string,
    policy: AlertPolicy,
    firing?: readonly HeldTopologyAlert[],
  ): TopologyAlerts {
    return new TopologyAlerts(
      network,
      cluster,
      this.options.topologyAlertMs ?? DEFAULT_TOPOLOGY_ALERT_MS,
      policy.dashboardUrl,
      firing,
    );
  }

  /** The runtime as it is before a batch of `frames` ticks (batch-snapshot.ts), and what puts its shared ring back. */
  private snapshotRuntime(
    runtime: ClusterRuntime,
    frames: number,
    undoing: Set<Undoable>,
  ): { runtime: ClusterRuntime; restore: () => void } {
    const snapshot = snapshotForBatch(runtime.state, frames, runtime.slot.model.config.modalities.length);
    // The stuck and jump statistics, the live ones and a shadowed candidate's, are not copied: they keep an undo log
    // of the batch (a copy was most of its garbage).
    const statistics: Undoable[] = [runtime.stuck, runtime.jumps];
    if (runtime.candidate) statistics.push(runtime.candidate.stuck, runtime.candidate.jumps);
    const undos = statistics.map((kept) => kept.keepUndo());
    for (const kept of statistics) undoing.add(kept);
    return {
      runtime: this.copyRuntime(runtime, snapshot.state),
      restore: () => {
        snapshot.restore();
        for (let i = undos.length - 1; i >= 0; i--) undos[i]();
      },
    };
  }

  /**
   * A copy of everything a batch changes in a runtime, with `state` as its model state; the stuck and jump statistics,
   * the candidate's too, are shared (their undo logs take a batch back).
   */
  private copyRuntime(runtime: ClusterRuntime, state: ClusterState): ClusterRuntime {
    const { shadow } = runtime;
    return {
      ...runtime,
      state,
      ...(shadow ? { shadow: cloneClusterState(shadow) } : {}),
      ...(runtime.candidate
        ? { candidate: candidateBeforeBatch(runtime.candidate, runtime.network, runtime.cluster) }
        : {}),
      alerts: runtime.alerts.copy(runtime.slot.policy),
      topology: runtime.topology.clone(),
      joined: new Map(runtime.joined),
      ...(runtime.pendingChange ? { pendingChange: { ...runtime.pendingChange } } : {}),
    };
  }
}

/** A batch that can still be rolled back: its clusters, and the statistics keeping an undo log of it. */
interface UnsettledBatch {
  clusters: Set<string>;
  undoing: Set<Undoable>;
}

/** A frame ready for the model: its cluster, input, graph neighbours and, during a swap, the new version's input. */
interface PreparedStep {
  frame: Frame;
  input: ClusterStepInput;
  runtime: ClusterRuntime;
  neighbours: Array<string[] | undefined>;
  /** Node changes this frame shows (fire `topology` alerts when recorded). */
  changes: TimedChanges;
  shadow?: ClusterStepInput;
}

/** The checkpoint field of a cluster's false-alert budget, if its policy keeps one. */
function budgetField(alerts: ClusterAlerts): Pick<ClusterCheckpoint, 'alertBudget'> {
  const budget = alerts.budgetState();
  return budget ? { alertBudget: budget } : {};
}

/** The checkpoint field of a cluster's firing topology alerts, when it has any. */
function topologyAlertsField(topology: TopologyAlerts): Pick<ClusterCheckpoint, 'topologyAlerts'> {
  const firing = topology.toJSON();
  return firing.length > 0 ? { topologyAlerts: firing } : {};
}

function once(run: () => void): () => void {
  let done = false;
  return () => {
    if (!done) run();
    done = true;
  };
}

function shapeOf(model: StreamingModel): StateShape {
  const { modalities, window, gruLayers, gruUnits } = model.config;
  return { modalities: [...modalities], window, gruLayers, gruUnits };
}
