/**
 * The verdict step: from one cluster's model output at a frame, each node's
 * score with its verdict (`is_anomaly`) and what the alert tracker is told
 * of it. The live model (processor.ts) and a shadow-scored candidate
 * (shadow.ts) both judge through this one function, each with its own
 * per-cluster state (threshold and false-alert budget, stuck readings,
 * tracker), so that `model compare` weighs a candidate the way the live
 * model is weighed.
 */
import type { Alert, Frame, NodeScore } from '../../common/types.ts';
import type { ClusterStepOutput } from '../../model/index.ts';
import type { ReadingJumps } from '../alerts/jumps.ts';
import type { StuckReadings } from '../alerts/stuck.ts';
import {
  DEFAULT_LOCALIZATION_RATIO,
  dominatedNodes,
  thresholdOfNode,
  type AlertPolicy,
  type ClusterAlerts,
  type NodeObservation,
} from '../alerts/tracker.ts';
import { contextWarm } from './frame-values.ts';
import type { StreamingModel } from './model.ts';

/** What one model version keeps per cluster to judge its outputs. */
export interface VerdictState {
  policy: AlertPolicy;
  /** The tracker, with the threshold in force (the false-alert budget may raise the policy's). */
  alerts: ClusterAlerts;
  /** The nodes' runs of equal readings (used when the policy watches for stuck readings). */
  stuck: StuckReadings;
  /** The nodes' usual jumps of their readings (used when the policy watches for sudden jumps). */
  jumps: ReadingJumps;
}

/** One frame as the model scored it. */
export interface VerdictInput {
  frame: Frame;
  output: ClusterStepOutput;
  /** The scoring model's configuration (modalities, window, context warm-up). */
  config: StreamingModel['config'];
  /** Per node of the frame, its graph neighbours in the cluster (undefined: the rest of the cluster). */
  neighbours: ReadonlyArray<readonly string[] | undefined>;
  /** Whether a node joined its cluster too recently to be judged at this tick. */
  warming(node: string): boolean;
}

export interface Verdicts {
  /** What the tracker was told of each node at this tick. */
  observations: NodeObservation[];
  /** Each node's score and verdict; empty while the window is still filling. */
  nodeScores: NodeScore[];
  /** The tracker's transitions at this tick (fired, resolved). */
  alerts: Alert[];
  /** Node-ticks scored but not judged because the node is warming up. */
  warmingNodeTicks: number;
}

/**
 * Judges one frame: stuck readings and sudden jumps, each node's verdict
 * against its threshold in force, localization (a node explained by a
 * stronger neighbour is not anomalous, unless stuck or jumping), then the
 * alert tracker.
 */
export function judgeFrame(state: VerdictState, input: VerdictInput): Verdicts {
  const { alerts, policy } = state;
  const { stuck, unusual } = stuckReadings(state, input);
  const sudden = policy.jumps
    ? state.jumps.observe(input.frame, input.config.modalities, input.neighbours, policy.jumps)
    : new Map<string, string>();
  const { observations, nodeScores, warmingNodeTicks } = judgeNodes(state, input, { stuck, unusual, sudden });
  if (input.output.ready) {
    // is_anomaly is the tracker's verdict for the tick: above the threshold and not explained by a stronger neighbour,
    // or a stuck reading or a sudden jump. The cluster's threshold in force (the false-alert budget may have raised the policy's).
    // Copied only where weighing changed the errors (with a false-alert budget): a copy per node and tick is garbage.
    const weighed = observations.map((o) => {
      const errors = alerts.weighErrors(o.reconstructionError);
      return errors === o.reconstructionError ? o : { ...o, reconstructionError: errors };
    });
    const ratio = policy.localizationRatio ?? DEFAULT_LOCALIZATION_RATIO;
    const dominated = dominatedNodes(weighed, alerts.threshold(), ratio);
    for (const score of nodeScores)
      if (dominated.has(score.node) && !stuck.has(score.node) && !sudden.has(score.node)) score.isAnomaly = false;
  }
  return { observations, nodeScores, alerts: alerts.observe(input.frame.tick, observations), warmingNodeTicks };
}

/**
 * Whether a node that joined its cluster at `joinedAt` is still warming up
 * at `tick`: it starts from a fresh window and hidden state, so it is not
 * judged before the model's window and slow context have filled.
 */
export function stillWarming(
  joinedAt: number | undefined,
  tick: number,
  config: StreamingModel['config'],
  tickMs: number,
): boolean {
  if (joinedAt === undefined) return false;
  const warmupTicks = Math.max(config.window, config.context?.warmupTicks ?? 0);
  return (tick - joinedAt) / tickMs + 1 < warmupTicks;
}

/**
 * The frame's readings through the cluster's stuck-at statistics (none when
 * off): per node, the stuck modality, and one repeating far longer than
 * usual though not stuck yet (it only names an alert).
 */
function stuckReadings(
  { policy, stuck }: VerdictState,
  { frame, config, neighbours }: VerdictInput,
): { stuck: Map<string, string>; unusual: Map<string, string> } {
  if (!policy.stuck) return { stuck: new Map(), unusual: new Map() };
  const minRepeats = policy.stuck.minRepeats ?? config.window;
  const judged = { ...policy.stuck, minRepeats };
  return stuck.observe(frame, config.modalities, neighbours, judged);
}

/** Each node's score (when the window is full) and what the alert tracker is told of it at this tick. */
function judgeNodes(
  { alerts, policy }: VerdictState,
  { frame, output, config, neighbours, warming }: VerdictInput,
  beside: {
    /** Per node, the modality stuck, repeating unusually long (names only), or jumping suddenly. */
    stuck: ReadonlyMap<string, string>;
    unusual: ReadonlyMap<string, string>;
    sudden: ReadonlyMap<string, string>;
  },
): { observations: NodeObservation[]; nodeScores: NodeScore[]; warmingNodeTicks: number } {
  const { modalities } = config;
  const m = modalities.length;
  const observations: NodeObservation[] = [];
  const nodeScores: NodeScore[] = [];
  let warmingNodeTicks = 0;
  // The slow context (levels against the neighbours, hours of segment means) is cold at the stream's
  // start: scores are written, but no tick counts as anomalous and no alert fires before it has warmed up.
  const clusterJudged = output.ready && contextWarm(output.state, config.context?.warmupTicks ?? 0);
  frame.nodes.forEach((node, n) => {
    const nodeWarming = warming(node.node);
    if (nodeWarming && output.ready) warmingNodeTicks += 1;
    const judged = clusterJudged && !nodeWarming;
    const stuckModality = judged ? beside.stuck.get(node.node) : undefined;
    const jumpModality = judged ? beside.sudden.get(node.node) : undefined;
    const longRun = judged && stuckModality === undefined ? beside.unusual.get(node.node) : undefined;
    const reconstructionError: Record<string, number> = {};
    let errorSum = 0;
    modalities.forEach((modality, k) => {
      const error = output.ready ? output.reconstruction[n * m + k] : 0;
      reconstructionError[modality] = error;
      errorSum += error;
    });
    const probability = output.node[n];
    if (output.ready) {
      // A node's threshold raised by feedback counts here too, for the modality this tick blames.
      const weighed = alerts.weighErrors(reconstructionError);
      const own = alerts.nodeThreshold(node.node);
      const nodeThreshold = thresholdOfNode(policy, frame.network, node.node, weighed, own);
      const isAnomaly =
        judged && (stuckModality !== undefined || jumpModality !== undefined || probability > nodeThreshold);
      nodeScores.push({ node: node.node, probability, score: errorSum / m, reconstructionError, isAnomaly });
    }
    const around = neighbours[n];
    // The optional fields set one by one rather than spread from a literal each: this runs per node and tick.
    const observation: NodeObservation = {
      node: node.node,
      probability: judged ? probability : null,
      reconstructionError,
      silent: node.silent,
    };
    if (around) observation.neighbours = around;
    if (stuckModality !== undefined) observation.stuck = stuckModality;
    if (longRun !== undefined) observation.longRun = longRun;
    if (jumpModality !== undefined) observation.jump = jumpModality;
    observations.push(observation);
  });
  return { observations, nodeScores, warmingNodeTicks };
}
