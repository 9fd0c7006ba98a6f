/**
 * Shadow scoring: a candidate version (`wsn-watch model shadow VERSION`)
 * scores the same frames as the live model, with a state of its own per
 * cluster, and judges them through the live path's verdict step
 * (verdicts.ts) with its own threshold (its calibrated one, following its
 * own false-alert budget), its own stuck-reading and jump statistics and tracker. Its verdicts
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
import { ReadingJumps } from '../alerts/jumps.ts';
import { StuckReadings } from '../alerts/stuck.ts';
import { ClusterAlerts } from '../alerts/tracker.ts';
import {
  cloneClusterState,
  type ClusterState,
  type ClusterStepInput,
  type ClusterStepOutput,
} from '../../model/index.ts';
import { rawValues } from './frame-values.ts';
import type { ModelSlot } from './model-swap.ts';
import { judgeFrame, stillWarming, type VerdictState } from './verdicts.ts';

/** A cluster's state in the shadowing version: what the verdict step keeps per version, and the model's state. */
export interface CandidateState extends VerdictState {
  version: string;
  state: ClusterState;
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
      candidate = {
        version,
        state: model.createState(nodes),
        alerts,
        policy,
        stuck: new StuckReadings(),
        jumps: new ReadingJumps(),
      };
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

  /** The candidate's verdicts through the live path's verdict step, with its own threshold, stuck readings and tracker. */
  private judge(shadow: ShadowFrame, output: ClusterStepOutput, round: ShadowRound): void {
    const { frame, neighbours, holder, joined } = shadow;
    const candidate = holder.candidate as CandidateState;
    candidate.state = output.state;
    const { model, version } = this.slot;
    const { config } = model;
    const verdicts = judgeFrame(candidate, {
      frame,
      output,
      config,
      neighbours,
      warming: (node) => stillWarming(joined.get(node), frame.tick, config, this.tickMs),
    });
    const started = verdicts.alerts.filter((alert) => alert.kind === 'anomaly' && alert.status === 'firing');
    round.started.push(...started);
    const opened = new Set(started.map((alert) => alert.node));
    for (const score of verdicts.nodeScores) {
      round.scores.push({
        network: frame.network,
        cluster: frame.cluster,
        node: score.node,
        tick: frame.tick,
        model: version,
        probability: score.probability,
        isAnomaly: score.isAnomaly,
        alertStarted: opened.has(score.node),
      });
    }
  }
}

/**
 * A cluster's candidate state as it is before a batch, for the batch's rollback: the model state and tracker copied,
 * the stuck and jump statistics shared (the processor keeps their undo logs while the batch may fail, as it does for
 * the live ones; copying them was most of a batch's garbage).
 */
export function candidateBeforeBatch(candidate: CandidateState, network: string, cluster: string): CandidateState {
  const { version, policy, stuck, jumps } = candidate;
  const alerts = new ClusterAlerts(network, cluster, policy, candidate.alerts.toJSON(), candidate.alerts.budgetState());
  return { version, state: cloneClusterState(candidate.state), alerts, policy, stuck, jumps };
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
