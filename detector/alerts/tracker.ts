import type { Alert, Modality, NodeId } from '../../common/types.ts';

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
  /** The link an alert carries to the node's dashboard. */
  dashboardUrl(network: string, node: NodeId, cluster?: string): string;
}

/** The fraction of the threshold below which a firing alert counts a tick as clear. */
export const DEFAULT_RESOLVE_RATIO = 0.8;

/** What the tracker needs to know about one node at one tick. */
export interface NodeObservation {
  node: NodeId;
  /** Null when the node was not scored at this tick (e.g. the window is still filling). */
  probability: number | null;
  reconstructionError: Record<Modality, number>;
  /** The node has been silent longer than the ingest's silence limit. */
  silent: boolean;
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
}

export type ClusterAlertStateJson = Record<NodeId, NodeAlertState>;

/** The modality with the largest reconstruction error (ties: first in key order). */
export function mostResponsibleModality(errors: Record<Modality, number>): Modality {
  let best: Modality = 'none';
  let bestError = -Infinity;
  for (const [modality, error] of Object.entries(errors)) {
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

/**
 * The alert state machine of one cluster's nodes. Per node: quiet → (k ticks
 * above threshold) → firing anomaly → (r ticks below the lower threshold) →
 * resolved; a silent node fires a `silent` alert at once (the ingest already
 * waited its silence limit) and resolves after r ticks of reporting again.
 * At most one alert per node fires at a time, so alerts are deduplicated by
 * node; a node that goes silent while its anomaly alert fires has that
 * alert resolved and the silent one fired.
 */
export class ClusterAlerts {
  private readonly nodes = new Map<NodeId, NodeAlertState>();

  constructor(
    readonly network: string,
    readonly cluster: string,
    private readonly policy: AlertPolicy,
    state: ClusterAlertStateJson = {},
  ) {
    for (const [node, nodeState] of Object.entries(state)) this.nodes.set(node, { ...nodeState, firing: nodeState.firing ? { ...nodeState.firing } : null });
  }

  /**
   * Feeds one tick; returns the alerts that changed (fired, resolved) at it.
   * Nodes absent from `observations` left the cluster: their alerts resolve.
   */
  observe(tick: number, observations: NodeObservation[]): Alert[] {
    const changes: Alert[] = [];
    const present = new Set<NodeId>();
    for (const observation of observations) {
      present.add(observation.node);
      let state = this.nodes.get(observation.node);
      if (!state) this.nodes.set(observation.node, (state = { above: 0, aboveSince: null, clear: 0, firing: null }));
      changes.push(...this.step(state, tick, observation));
    }
    for (const [node, state] of this.nodes) {
      if (present.has(node)) continue;
      if (state.firing) changes.push(this.resolve(state, tick));
      this.nodes.delete(node);
    }
    return changes;
  }

  /** The alerts firing now (for periodic re-sends). */
  firing(): Alert[] {
    return [...this.nodes.values()].flatMap((state) => (state.firing ? [{ ...state.firing }] : []));
  }

  toJSON(): ClusterAlertStateJson {
    return Object.fromEntries([...this.nodes].map(([node, state]) => [node, { ...state, firing: state.firing ? { ...state.firing } : null }]));
  }

  private step(state: NodeAlertState, tick: number, observation: NodeObservation): Alert[] {
    const { policy } = this;
    const firing = state.firing;
    if (observation.silent) {
      state.above = 0;
      state.aboveSince = null;
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
      state.above = 0;
      state.aboveSince = null;
      return [];
    }
    if (firing) {
      firing.probability = Math.max(firing.probability, probability);
      if (probability < policy.resolveThreshold) {
        state.clear += 1;
        if (state.clear >= policy.resolveAfterTicks) return [this.resolve(state, tick)];
      } else {
        state.clear = 0;
      }
      return [];
    }
    if (probability > policy.threshold) {
      if (state.above === 0) state.aboveSince = tick;
      state.above += 1;
      if (state.above >= policy.alertAfterTicks) {
        state.firing = this.alert('anomaly', observation.node, mostResponsibleModality(observation.reconstructionError), probability, state.aboveSince ?? tick);
        state.above = 0;
        state.aboveSince = null;
        state.clear = 0;
        return [{ ...state.firing }];
      }
    } else {
      state.above = 0;
      state.aboveSince = null;
    }
    return [];
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

/** The policy from the detector's configuration. */
export function alertPolicyFromConfig(config: {
  detector: { threshold: number; alertAfterTicks: number; resolveAfterTicks: number };
  dashboard: { publicUrl: string };
}): AlertPolicy {
  return {
    threshold: config.detector.threshold,
    resolveThreshold: config.detector.threshold * DEFAULT_RESOLVE_RATIO,
    alertAfterTicks: config.detector.alertAfterTicks,
    resolveAfterTicks: config.detector.resolveAfterTicks,
    dashboardUrl: (network, node, cluster) => dashboardLink(config.dashboard.publicUrl, network, cluster ?? '', node),
  };
}
