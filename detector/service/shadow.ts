/**
 * Shadow scoring: a candidate version (`wsn-watch model shadow VERSION`)
 * scores the same frames as the live model, with a state of its own per
 * cluster and its own alert tracker at its calibrated threshold. Its verdicts
 * go to the `shadow` measurement only: they never reach the alert routes or
 * `wsn.anomalies`, and the live model's state, scores and alerts are not
 * touched. Like a promoted version warming up (model-swap.ts), the candidate
 * starts from a fresh state and judges nothing before its window and slow
 * context are warm; its state is not checkpointed, so after a restart it
 * warms up again.
 */
import type { Counter, Registry } from 'prom-client';
import { counter, declareMetrics } from '../../common/metrics.ts';
import type { Alert, Frame } from '../../common/types.ts';
import type { ShadowScore } from '../../store/shadow.ts';
import type { AlertPolicy, NodeObservation } from '../alerts/tracker.ts';
import { ClusterAlerts, DEFAULT_LOCALIZATION_RATIO, dominatedNodes, thresholdOfNode } from '../alerts/tracker.ts';
import {
  cloneClusterState,
  type ClusterState,
  type ClusterStepInput,
  type ClusterStepOutput,
} from '../../model/index.ts';
import { contextWarm, rawValues } from './frame-values.ts';
import type { ModelSlot } from './model-swap.ts';

/** A cluster's state in the shadowing version. */
export interface CandidateState {
  version: string;
  state: ClusterState;
  alerts: ClusterAlerts;
  policy: AlertPolicy;
}

/** One frame as the live model got it, and where its cluster keeps the candidate's state. */
export interface ShadowFrame {
  frame: Frame;
  adjacency?: number[][];
  /** Per node, its graph neighbours in the cluster (as the live tracker takes them). */
  neighbours: Array<string[] | undefined>;
  /** Nodes that joined the cluster recently and the tick they joined (not judged while warming). */
  joined: ReadonlyMap<string, number>;
  holder: { candidate?: CandidateState };
}

export interface ShadowRound {
  scores: ShadowScore[];
  /** Anomaly alerts the candidate's tracker opened (to be checked against the silences, never routed). */
  started: Alert[];
}

export class ShadowScorer {
  constructor(
    readonly slot: ModelSlot,
    private readonly tickMs: number,
  ) {}

  get version(): string {
    return this.slot.version;
  }

  /** Scores one round of frames with the candidate, in one model call. */
  async score(frames: ShadowFrame[]): Promise<ShadowRound> {
    const round: ShadowRound = { scores: [], started: [] };
    if (frames.length === 0) return round;
    const outputs = await this.slot.model.step(frames.map((frame) => this.input(frame)));
    frames.forEach((frame, i) => this.judge(frame, outputs[i], round));
    return round;
  }

  private input({ frame, adjacency, holder }: ShadowFrame): ClusterStepInput {
    const { model, policy, version } = this.slot;
    const nodes = frame.nodes.map((node) => node.node);
    let candidate = holder.candidate;
    if (candidate?.version !== version) {
      const alerts = new ClusterAlerts(frame.network, frame.cluster, policy);
      candidate = { version, state: model.createState(nodes), alerts, policy };
      holder.candidate = candidate;
    }
    if (nodes.join('\u0000') !== candidate.state.nodes.join('\u0000'))
      candidate.state = model.resizeState(candidate.state, nodes);
    return {
      state: candidate.state,
      values: model.normalizeValues(nodes, rawValues(frame, model.config.modalities)),
      ...(adjacency ? { adjacency } : {}),
    };
  }

  private judge(shadow: ShadowFrame, output: ClusterStepOutput, round: ShadowRound): void {
    const { frame, neighbours, holder } = shadow;
    const candidate = holder.candidate as CandidateState;
    candidate.state = output.state;
    const { model, policy, version } = this.slot;
    const { modalities } = model.config;
    const warmup = Math.max(model.config.window, model.config.context?.warmupTicks ?? 0);
    const clusterJudged = output.ready && contextWarm(output.state, model.config.context?.warmupTicks ?? 0);
    const observations: NodeObservation[] = frame.nodes.map((node, n) => {
      const joined = shadow.joined.get(node.node);
      const warming = joined !== undefined && (frame.tick - joined) / this.tickMs + 1 < warmup;
      const reconstructionError: Record<string, number> = {};
      modalities.forEach((modality, k) => {
        reconstructionError[modality] = output.ready ? output.reconstruction[n * modalities.length + k] : 0;
      });
      const around = neighbours[n];
      return {
        node: node.node,
        probability: clusterJudged && !warming ? output.node[n] : null,
        reconstructionError,
        silent: node.silent,
        ...(around ? { neighbours: around } : {}),
      };
    });
    const started = candidate.alerts
      .observe(frame.tick, observations)
      .filter((alert) => alert.kind === 'anomaly' && alert.status === 'firing');
    round.started.push(...started);
    if (!output.ready) return;
    const opened = new Set(started.map((alert) => alert.node));
    const dominated = dominatedNodes(
      observations,
      policy.threshold,
      policy.localizationRatio ?? DEFAULT_LOCALIZATION_RATIO,
    );
    observations.forEach((observation, n) => {
      const probability = output.node[n];
      const above =
        observation.probability !== null &&
        probability > thresholdOfNode(policy, frame.network, observation.node, observation.reconstructionError);
      round.scores.push({
        network: frame.network,
        cluster: frame.cluster,
        node: observation.node,
        tick: frame.tick,
        model: version,
        probability,
        isAnomaly: above && !dominated.has(observation.node),
        alertStarted: opened.has(observation.node),
      });
    });
  }
}

/** A copy of a cluster's candidate state (a failed batch puts it back). */
export function cloneCandidate(candidate: CandidateState, network: string, cluster: string): CandidateState {
  const { version, policy } = candidate;
  const alerts = new ClusterAlerts(network, cluster, policy, candidate.alerts.toJSON());
  return { version, state: cloneClusterState(candidate.state), alerts, policy };
}

/** `/metrics`: the anomaly alerts a shadowing version would have opened, per version (kept out of detector/service/metrics.ts: it exists only with shadows). */
export function shadowAlertCounter(registry: Registry): Counter<'model'> {
  return declareMetrics(registry, 'wsn_detector_', {
    shadowAlerts: counter(
      'shadow_alerts_total',
      'Anomaly alerts a shadow-scored candidate version opened with its own threshold (never routed), per version',
      ['model'],
    ),
  }).shadowAlerts;
}

/**
 * The silences apply to the candidate as to the live model: an episode it
 * opens on a node a silence covers is not counted as started. `visible`
 * answers which of the alerts a silence lets through (SilenceGate.visible).
 */
export function gateShadowStarts(
  scores: ShadowScore[],
  started: readonly Alert[],
  visible: (alerts: Alert[]) => Alert[],
): Alert[] {
  if (started.length === 0) return [];
  const through = visible([...started]);
  const kept = new Set(through.map((alert) => `${alert.node}@${alert.startsAt}`));
  const held = new Set(started.filter((alert) => !kept.has(`${alert.node}@${alert.startsAt}`)).map((a) => a.node));
  for (const score of scores) if (score.alertStarted && held.has(score.node)) score.alertStarted = false;
  return through;
}
