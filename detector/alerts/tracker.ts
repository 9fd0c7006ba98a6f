import { DEFAULT_ALERT_THRESHOLD } from '../../common/thresholds.ts';
import type { Alert, Modality, NodeId } from '../../common/types.ts';
import { FalseAlertBudget, type BudgetPrior, type BudgetStateJson } from './false-alert-budget.ts';
import type { JumpPolicy } from './jumps.ts';
import type { StuckPolicy } from './stuck.ts';
import { HOUR_MS, DAY_MS } from '../../common/constants.ts';

/** When a node starts and stops alerting. */
export interface AlertPolicy {
  /** A tick counts towards firing when the node's probability is above this. */
  threshold: number;
  /** A tick counts towards resolving when the probability is below this (hysteresis: lower than `threshold`). */
  resolveThreshold: number;
  /** Consecutive ticks above `threshold` before an alert fires. */
  alertAfterTicks: number;
  /** Consecutive ticks below `resolveThreshold` (or reporting again, for a silent node) before it resolves. */
  resolveAfterTicks: number;
  /**
   * Localization: a node above the threshold is not counted at a tick when a
   * neighbour has a higher probability and the node's own evidence is below
   * this fraction of the neighbour's (see `dominatedNodes`). 0 turns it off.
   * Default DEFAULT_LOCALIZATION_RATIO.
   */
  localizationRatio?: number;
  /** The link an alert carries to the node's dashboard. */
  dashboardUrl(network: string, node: NodeId, cluster?: string): string;
  /**
   * The threshold of one node's alert blamed on `modality`, when it differs
   * per node (operator feedback raises a false alarm's node, detector/feedback/);
   * absent = `threshold` for every node. Never below `threshold`.
   */
  nodeThreshold?(network: string, node: NodeId, modality: Modality): number;
  /**
   * Keep the model's false-alert budget on the stream (false-alert-budget.ts):
   * the threshold rises above `threshold` when healthy nodes' scores run
   * higher than on the validation the model was calibrated on. Absent: the
   * threshold stays `threshold` (a user's threshold, or a model without its
   * calibration).
   */
  falseAlertBudget?: { prior: BudgetPrior; halfLifeTicks: number; perNodeDay: number };
  /** Stuck-at faults beside the model (stuck.ts); absent: off. */
  stuck?: StuckPolicy;
  /** Sudden jumps of one reading beside the model (jumps.ts); absent: off. */
  jumps?: JumpPolicy;
}

/** Words for the start-up line: "" when the threshold stays as set, else how it follows the budget. */
export function describeBudget(policy: AlertPolicy): string {
  const budget = policy.falseAlertBudget;
  if (!budget) return '';
  return `; rises above it while healthy nodes score higher than on the model's validation, to keep ${Number(budget.perNodeDay.toPrecision(3))} false alerts per node-day (half-life ${BUDGET_HALF_LIFE_MS / HOUR_MS} h)`;
}

/**
 * The threshold a node's tick is compared with: the policy's, or the node's
 * own when feedback raised it for the modality these errors blame.
 */
export function thresholdOfNode(
  policy: AlertPolicy,
  network: string,
  node: NodeId,
  errors: Record<Modality, number>,
  threshold = policy.threshold,
): number {
  if (!policy.nodeThreshold) return threshold;
  return Math.max(threshold, policy.nodeThreshold(network, node, mostResponsibleModality(errors)));
}

/**
 * The fraction of the threshold below which a firing alert counts a tick as
 * clear. Half the threshold: a persistent fault whose probability wavers
 * around the threshold keeps its alert; only a clear return to normal counts.
 */
export const DEFAULT_RESOLVE_RATIO = 0.5;

/** See AlertPolicy.localizationRatio. */
export const DEFAULT_LOCALIZATION_RATIO = 0.5;

/** What the tracker needs to know about one node at one tick. */
export interface NodeObservation {
  node: NodeId;
  /** Null when the node was not scored at this tick (e.g. the window is still filling). */
  probability: number | null;
  reconstructionError: Record<Modality, number>;
  /** The node has been silent longer than the ingest's silence limit. */
  silent: boolean;
  /**
   * The node's graph neighbours in the cluster, for localization. Absent:
   * every other node of the cluster observed at this tick.
   */
  neighbours?: readonly NodeId[];
  /**
   * The node's reading of this modality is stuck (stuck.ts): the tick counts
   * as above the threshold whatever the probability, and the alert names it.
   */
  stuck?: Modality;
  /**
   * The node's reading of this modality has repeated far longer than usual,
   * though it does not count as stuck yet (stuck.ts unusualRuns): it counts
   * for nothing, but an alert the model fires at this tick names it.
   */
  longRun?: Modality;
  /** The node's reading of this modality jumped suddenly (jumps.ts): the alert fires at this tick and names it. */
  jump?: Modality;
}

/** One node's alert state: plain JSON, checkpointed with its cluster. */
export interface NodeAlertState {
  /** Consecutive ticks above the threshold, while not firing. */
  above: number;
  /** Tick the current run above the threshold started. */
  aboveSince: number | null;
  /** Consecutive clear ticks, while firing. */
  clear: number;
  /** The firing alert, if any. */
  firing: Alert | null;
  /**
   * Reconstruction error per modality summed over the current run above the
   * threshold: the alert names the modality with the largest sum (absent in
   * checkpoints written before it existed).
   */
  errors?: Record<Modality, number>;
  /**
   * With a false-alert budget: the same sums with each tick's errors weighed
   * for naming (FalseAlertBudget.blameErrors), which the alert's modality is
   * taken from (absent: `errors` name it).
   */
  named?: Record<Modality, number>;
}

export type ClusterAlertStateJson = Record<NodeId, NodeAlertState>;

/** Half-life of the false-alert budget's observations: half a day of event time. */
export const BUDGET_HALF_LIFE_MS = 12 * HOUR_MS;

/** The modality with the largest reconstruction error (ties: first in key order). */
export function mostResponsibleModality(errors: Record<Modality, number>): Modality {
  let best: Modality = 'none';
  let bestError = -Infinity;
  // for…in, not Object.entries: this runs per node and tick, and each entry would be an array.
  for (const modality in errors) {
    const error = errors[modality];
    if (Number.isFinite(error) && error > bestError) {
      best = modality;
      bestError = error;
    }
  }
  return best;
}

export function alertId(network: string, cluster: string, node: NodeId): string {
  return `${network}/${cluster}/${node}`;
}

/** Probabilities are compared on the log-odds scale, clipped so that 0 and 1 stay finite. */
const LOGIT_CLIP = 1e-4;
function logit(p: number): number {
  const q = Math.min(1 - LOGIT_CLIP, Math.max(LOGIT_CLIP, p));
  return Math.log(q / (1 - q));
}

function totalError(errors: Record<Modality, number>): number {
  let sum = 0;
  for (const error of Object.values(errors)) if (Number.isFinite(error) && error > 0) sum += error;
  return sum;
}

/**
 * Localization: the nodes above the threshold at this tick whose alarm is
 * better explained by a neighbour's. A fault on one node makes its neighbours
 * look odd too (the model reads each node through its neighbours), so their
 * probabilities rise with it, but less. Node i is dominated when a neighbour
 * j has a higher probability and i's own evidence is much weaker than j's,
 * both on
 *  - the margin above the threshold on the log-odds scale,
 *    logit(p_i) − logit(t) < ratio × (logit(p_j) − logit(t)), and
 *  - its own reconstruction error (summed over modalities), e_i < ratio × e_j
 *    (skipped when j has no reconstruction error to compare with).
 * Two genuinely faulty neighbours each have strong evidence of their own, so
 * neither is dominated and both alert; ratio 0 turns localization off.
 */
export function dominatedNodes(
  observations: readonly NodeObservation[],
  threshold: number,
  ratio: number,
): Set<NodeId> {
  const dominated = new Set<NodeId>();
  if (!(ratio > 0)) return dominated;
  const base = logit(threshold);
  const above = observations.filter(
    (o): o is NodeObservation & { probability: number } =>
      !o.silent && o.probability !== null && o.probability > threshold,
  );
  if (above.length < 2) return dominated;
  const byNode = new Map(above.map((o) => [o.node, o]));
  for (const candidate of above) {
    const margin = logit(candidate.probability) - base;
    const error = totalError(candidate.reconstructionError);
    const neighbours = candidate.neighbours ?? above.map((o) => o.node);
    for (const id of neighbours) {
      const other = id === candidate.node ? undefined : byNode.get(id);
      if (!other || !(other.probability > candidate.probability)) continue;
      const otherError = totalError(other.reconstructionError);
      const weakerMargin = margin < ratio * (logit(other.probability) - base);
      const weakerError = !(otherError > 0) || error < ratio * otherError;
      if (weakerMargin && weakerError) {
        dominated.add(candidate.node);
        break;
      }
    }
  }
  return dominated;
}

/**
 * The alert state machine of one cluster's nodes. Per node: quiet → (k ticks
 * above threshold) → firing anomaly → (r ticks below the lower resolve level)
 * → resolved; a silent node fires a `silent` alert at once (the ingest already
 * waited its silence limit) and resolves after r ticks of reporting again.
 * A node dominated by a neighbour at a tick (localization, `dominatedNodes`)
 * counts that tick as not above the threshold, and as clear while firing.
 * At most one alert per node fires at a time, so alerts are deduplicated by
 * node; a node that goes silent while its anomaly alert fires has that
 * alert resolved and the silent one fired.
 */
export class ClusterAlerts {
  private readonly nodes = new Map<NodeId, NodeAlertState>();
  private budget: FalseAlertBudget | undefined;

  constructor(
    readonly network: string,
    readonly cluster: string,
    private policy: AlertPolicy,
    state: ClusterAlertStateJson = {},
    budgetState?: BudgetStateJson,
  ) {
    for (const [node, nodeState] of Object.entries(state)) this.nodes.set(node, cloneState(nodeState));
    this.budget = budgetOf(policy, budgetState);
  }

  /** Follows another policy from the next tick on (a new model version brings its threshold); runs in progress are kept. */
  usePolicy(policy: AlertPolicy): void {
    this.policy = policy;
    // A new model's scores are another distribution: its budget starts from its own calibration.
    this.budget = budgetOf(policy);
  }

  /** The threshold in force at the next tick: the policy's, or higher where the false-alert budget raised it. */
  threshold(): number {
    return this.budget?.threshold ?? this.policy.threshold;
  }

  /** A node's threshold at the next tick: with a budget, the budget's at the node's own excursion rate. */
  nodeThreshold(node: NodeId): number {
    return this.budget?.nodeThreshold(node) ?? this.policy.threshold;
  }

  /**
   * A copy following `policy`, as `new ClusterAlerts(network, cluster, policy, toJSON(), budgetState())` would make
   * it, with one copy of each node's state and of the budget's instead of two and no entries in between: a batch
   * that may be rolled back copies every cluster's alerts.
   */
  copy(policy: AlertPolicy): ClusterAlerts {
    // The budget's constructor copies the state it is given: the live view is enough.
    const copy = new ClusterAlerts(this.network, this.cluster, policy, {}, this.budget?.stateView());
    for (const [node, state] of this.nodes) copy.nodes.set(node, cloneState(state));
    return copy;
  }

  /** The false-alert budget's state, checkpointed with the cluster (undefined: the policy keeps no budget). */
  budgetState(): BudgetStateJson | undefined {
    return this.budget?.toJSON();
  }

  /**
   * Feeds one tick; returns the alerts that changed (fired, resolved) at it.
   * Nodes absent from `observations` left the cluster: their alerts resolve.
   */
  observe(tick: number, given: NodeObservation[]): Alert[] {
    const changes: Alert[] = [];
    const observations = this.weighedErrors(given);
    const present = new Set<NodeId>();
    const dominated = dominatedNodes(
      observations,
      this.threshold(),
      this.policy.localizationRatio ?? DEFAULT_LOCALIZATION_RATIO,
    );
    observations.forEach((observation, i) => {
      present.add(observation.node);
      let state = this.nodes.get(observation.node);
      if (!state) this.nodes.set(observation.node, (state = { above: 0, aboveSince: null, clear: 0, firing: null }));
      const named = this.budget?.blameErrors(given[i].reconstructionError);
      changes.push(...this.step(state, tick, observation, dominated.has(observation.node), named));
    });
    for (const [node, state] of this.nodes) {
      if (present.has(node)) continue;
      if (state.firing) changes.push(this.resolve(state, tick));
      this.nodes.delete(node);
    }
    if (this.budget) {
      const healthy = given.filter((o) => !o.silent && o.probability !== null && !this.nodes.get(o.node)?.firing);
      this.budget.observe(
        new Map(healthy.map((o) => [o.node, o.probability as number])),
        new Map(healthy.map((o) => [o.node, o.reconstructionError])),
      );
    }
    return changes;
  }

  /** With a budget, blame weighs each modality's error against its usual error on the stream (false-alert-budget.ts). */
  private weighedErrors(observations: NodeObservation[]): NodeObservation[] {
    const budget = this.budget;
    if (!budget) return observations;
    return observations.map((o) => ({ ...o, reconstructionError: budget.relativeErrors(o.reconstructionError) }));
  }

  /** The errors as this cluster's alerts weigh them (for the score's verdict; unchanged without a budget). */
  weighErrors(errors: Record<Modality, number>): Record<Modality, number> {
    return this.budget ? this.budget.relativeErrors(errors) : errors;
  }

  /** The alerts firing now (for periodic re-sends). */
  firing(): Alert[] {
    // A loop: this runs over every node of every cluster twice per batch, and most fire nothing.
    const alerts: Alert[] = [];
    for (const state of this.nodes.values()) if (state.firing) alerts.push({ ...state.firing });
    return alerts;
  }

  toJSON(): ClusterAlertStateJson {
    return Object.fromEntries([...this.nodes].map(([node, state]) => [node, cloneState(state)]));
  }

  private step(
    state: NodeAlertState,
    tick: number,
    observation: NodeObservation,
    dominated: boolean,
    named: Record<Modality, number> | undefined,
  ): Alert[] {
    const { policy } = this;
    const firing = state.firing;
    if (observation.silent) {
      resetRun(state);
      state.clear = 0;
      if (firing?.kind === 'silent') return [];
      const changes = firing ? [this.resolve(state, tick)] : [];
      state.firing = this.alert('silent', observation.node, 'none', observation.probability ?? 0, tick);
      changes.push({ ...state.firing });
      return changes;
    }
    if (firing?.kind === 'silent') {
      state.clear += 1;
      return state.clear >= policy.resolveAfterTicks ? [this.resolve(state, tick)] : [];
    }
    const probability = observation.probability;
    if (probability === null) {
      // Not scored at this tick: neither evidence for nor against an anomaly.
      resetRun(state);
      return [];
    }
    if (firing) {
      // Hysteresis: only ticks clearly below the threshold (or explained by a
      // stronger neighbour) count towards resolving, and only a long run of them;
      // a stuck reading keeps its alert until the value moves, and a sudden
      // jump is evidence of the fault, never of its end.
      const judgedFaulty = observation.stuck !== undefined || observation.jump !== undefined;
      if ((probability < policy.resolveThreshold || dominated) && !judgedFaulty) {
        state.clear += 1;
        if (state.clear >= policy.resolveAfterTicks) return [this.resolve(state, tick)];
      } else {
        state.clear = 0;
        firing.probability = Math.max(firing.probability, probability);
      }
      return [];
    }
    const stuck = observation.stuck ?? observation.jump;
    if (stuck !== undefined || (probability > this.thresholdAt(state, observation) && !dominated)) {
      if (state.above === 0) state.aboveSince = tick;
      state.above += 1;
      const errors = (state.errors ??= {});
      addErrors(errors, observation.reconstructionError);
      // From a run's first tick only: a run restored without them (an older checkpoint) is named by `errors`.
      if (named && (state.above === 1 || state.named)) addErrors((state.named ??= {}), named);
      if (state.above >= policy.alertAfterTicks || observation.jump !== undefined) {
        // A stuck or jumping reading names itself; else one repeating far longer than usual; else the errors over the run.
        const modality = stuck ?? observation.longRun ?? mostResponsibleModality(state.named ?? errors);
        state.firing = this.alert('anomaly', observation.node, modality, probability, state.aboveSince ?? tick);
        resetRun(state);
        state.clear = 0;
        return [{ ...state.firing }];
      }
    } else {
      resetRun(state);
    }
    return [];
  }

  /** The node's threshold at this tick, for the modality its run so far (with this tick) would blame. */
  private thresholdAt(state: NodeAlertState, observation: NodeObservation): number {
    const own = this.nodeThreshold(observation.node);
    if (!this.policy.nodeThreshold) return own;
    const errors: Record<Modality, number> = { ...state.errors };
    for (const [modality, error] of Object.entries(observation.reconstructionError))
      if (Number.isFinite(error)) errors[modality] = (errors[modality] ?? 0) + error;
    return thresholdOfNode(this.policy, this.network, observation.node, errors, own);
  }

  private alert(kind: Alert['kind'], node: NodeId, modality: Modality, probability: number, startsAt: number): Alert {
    return {
      id: alertId(this.network, this.cluster, node),
      kind,
      status: 'firing',
      network: this.network,
      cluster: this.cluster,
      node,
      modality,
      probability,
      startsAt,
      dashboardUrl: this.policy.dashboardUrl(this.network, node, this.cluster),
    };
  }

  private resolve(state: NodeAlertState, tick: number): Alert {
    const resolved: Alert = { ...(state.firing as Alert), status: 'resolved', endsAt: tick };
    state.firing = null;
    state.clear = 0;
    return resolved;
  }
}

function budgetOf(policy: AlertPolicy, state?: BudgetStateJson): FalseAlertBudget | undefined {
  const budget = policy.falseAlertBudget;
  if (!budget) return undefined;
  return new FalseAlertBudget(
    { threshold: policy.threshold, prior: budget.prior, halfLifeTicks: budget.halfLifeTicks },
    state,
  );
}

function resetRun(state: NodeAlertState): void {
  state.above = 0;
  state.aboveSince = null;
  delete state.errors;
  delete state.named;
}

/** Adds a tick's errors per modality into a run's sums (non-finite ones left out). */
function addErrors(sums: Record<Modality, number>, errors: Readonly<Record<Modality, number>>): void {
  for (const [modality, error] of Object.entries(errors))
    if (Number.isFinite(error)) sums[modality] = (sums[modality] ?? 0) + error;
}

function cloneState(state: NodeAlertState): NodeAlertState {
  const copy: NodeAlertState = {
    above: state.above,
    aboveSince: state.aboveSince,
    clear: state.clear,
    firing: state.firing ? { ...state.firing } : null,
  };
  if (state.errors) copy.errors = { ...state.errors };
  if (state.named) copy.named = { ...state.named };
  return copy;
}

/**
 * The link an alert carries. By default the built-in dashboard's node page,
 * `<publicUrl>/node/<network>/<node>`. A publicUrl containing `{network}`,
 * `{node}` or `{cluster}` is used as a template instead, e.g. a Grafana
 * drill-down: `http://127.0.0.1:3000/d/wsn-node/node-drill-down?var-network={network}&var-node={node}`.
 */
export function dashboardLink(publicUrl: string, network: string, cluster: string, node: NodeId): string {
  if (/\{(network|node|cluster)\}/.test(publicUrl)) {
    const values: Record<string, string> = { network, node, cluster };
    return publicUrl.replace(/\{(network|node|cluster)\}/g, (_, key: string) => encodeURIComponent(values[key]));
  }
  return `${publicUrl.replace(/\/+$/, '')}/node/${encodeURIComponent(network)}/${encodeURIComponent(node)}`;
}

/**
 * The policy from the detector's configuration. The threshold is the user's
 * (`detector.threshold`) when set, else the one calibrated and stored with
 * the model (`modelThreshold`), else DEFAULT_ALERT_THRESHOLD.
 */
export function alertPolicyFromConfig(
  config: {
    detector: {
      threshold?: number;
      alertAfterTicks: number;
      resolveAfterTicks: number;
      resolveRatio?: number;
      localizationRatio?: number;
      stuck?: StuckPolicy & { enabled: boolean };
      jumps?: JumpPolicy & { enabled: boolean };
    };
    dashboard: { publicUrl: string };
  },
  modelThreshold?: number,
  calibration?: { prior: BudgetPrior; tickMs: number },
): AlertPolicy {
  const threshold = config.detector.threshold ?? modelThreshold ?? DEFAULT_ALERT_THRESHOLD;
  // Only the model's own threshold follows its budget: a threshold the user set is kept as set.
  const adapts = config.detector.threshold === undefined && modelThreshold !== undefined && calibration !== undefined;
  return {
    threshold,
    ...(adapts
      ? {
          falseAlertBudget: {
            prior: calibration.prior,
            halfLifeTicks: Math.max(1, Math.round(BUDGET_HALF_LIFE_MS / calibration.tickMs)),
            perNodeDay: (calibration.prior.budgetPerNodeTick * DAY_MS) / calibration.tickMs,
          },
        }
      : {}),
    resolveThreshold: threshold * (config.detector.resolveRatio ?? DEFAULT_RESOLVE_RATIO),
    alertAfterTicks: config.detector.alertAfterTicks,
    resolveAfterTicks: config.detector.resolveAfterTicks,
    localizationRatio: config.detector.localizationRatio ?? DEFAULT_LOCALIZATION_RATIO,
    ...stuckPolicyOf(config.detector.stuck),
    ...(config.detector.jumps?.enabled
      ? { jumps: { multiple: config.detector.jumps.multiple, quietTicks: config.detector.jumps.quietTicks } }
      : {}),
    dashboardUrl: (network, node, cluster) => dashboardLink(config.dashboard.publicUrl, network, cluster ?? '', node),
  };
}

/** The policy's stuck-at settings from detector.stuck (none when it is switched off). */
function stuckPolicyOf(stuck: (StuckPolicy & { enabled: boolean }) | undefined): Pick<AlertPolicy, 'stuck'> {
  if (!stuck?.enabled) return {};
  const { multiple, minRepeats, neighbourShare } = stuck;
  return { stuck: { multiple, neighbourShare, ...(minRepeats !== undefined ? { minRepeats } : {}) } };
}
