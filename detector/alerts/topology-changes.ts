import type { Alert, NodeId, TopologyChangeKind } from '../../common/types.ts';
import { HOUR_MS } from '../../common/constants.ts';

/** One node's change in a cluster's node list, as the detector sees it at a tick. */
export interface NodeChange {
  node: NodeId;
  change: TopologyChangeKind;
}

/** Default: a topology alert resolves on its own after an hour of event time. */
export const DEFAULT_TOPOLOGY_ALERT_MS = HOUR_MS;

/** Where a node is in one topology version: its cluster and position. */
export interface Placement {
  cluster: string;
  /** The position as text (x,y,z), compared for equality only. */
  position: string;
}

/**
 * What the followed topology (wsn.topology) knows beyond a frame's node list:
 * where every node was in the versions it has seen, so a node new to a
 * cluster can be told `moved` from `added`, and a moved node whose cluster
 * did not change is seen at all. Without it the detector tells added and
 * removed nodes only.
 */
export interface TopologyChangeSource {
  /** The placements of the nodes (removed ones left out) in a version, or undefined when it is not known (yet). */
  placements(version: string): ReadonlyMap<NodeId, Placement> | undefined;
  /** The version seen just before `version`, if any. */
  previousVersion(version: string): string | undefined;
}

/**
 * A cluster first seen under `version` (created by the change, say): its
 * nodes as the version before listed them, so the nodes that moved into it
 * are named too. Undefined without such a version (the detector just started).
 */
export function listedBefore(
  cluster: string,
  version: string,
  source: TopologyChangeSource | undefined,
): ListedNodes | undefined {
  const before = source?.previousVersion(version);
  const placements = before === undefined ? undefined : source?.placements(before);
  if (before === undefined || !placements) return undefined;
  const nodes = [...placements].filter(([, placement]) => placement.cluster === cluster).map(([node]) => node);
  return { version: before, nodes };
}

/** A cluster's node list under one topology version (the version unknown after a restart). */
export interface ListedNodes {
  version: string | undefined;
  nodes: readonly NodeId[];
}

/**
 * The changes of a cluster from one node list to the next. With both
 * versions known to the topology: a node new to the cluster is `moved` when
 * it was in the network before, else `added`; a node still listed is `moved`
 * when its position changed; a node gone from the list is `removed` unless
 * the new version has it in another cluster (that cluster names the move).
 * Without the topology's view it is the list difference: added and removed.
 * Returns undefined while the topology does not know the new version yet
 * (its follower lags the frames): ask again at the next tick.
 */
export function nodeChanges(
  cluster: string,
  from: ListedNodes,
  to: ListedNodes,
  source?: TopologyChangeSource,
): NodeChange[] | undefined {
  const before = new Set(from.nodes);
  const after = new Set(to.nodes);
  const next = source && to.version !== undefined ? source.placements(to.version) : undefined;
  if (source && !next) return undefined;
  const previous = from.version !== undefined ? source?.placements(from.version) : undefined;
  const changes: NodeChange[] = [];
  for (const node of to.nodes) {
    if (!before.has(node)) changes.push({ node, change: previous?.has(node) ? 'moved' : 'added' });
    else if (previous && next && previous.get(node)?.position !== next.get(node)?.position)
      changes.push({ node, change: 'moved' });
  }
  for (const node of from.nodes) {
    if (after.has(node)) continue;
    const elsewhere = next?.get(node)?.cluster;
    if (elsewhere === undefined || elsewhere === cluster) changes.push({ node, change: 'removed' });
  }
  return changes;
}

/** A firing topology alert and the event time it resolves by itself (also its checkpoint form). */
export interface HeldTopologyAlert {
  alert: Alert;
  resolvesAt: number;
}

/**
 * The informational `topology` alerts of one cluster: one per node change,
 * firing at the first tick of the change and resolved by the first tick at
 * least `holdMs` of event time later. A newer change of the same node
 * replaces the older alert (resolved, then the new one fires).
 */
export class TopologyAlerts {
  private readonly held = new Map<NodeId, HeldTopologyAlert>();

  /** `firing`: the alerts a checkpoint kept (toJSON), so a restored cluster still resolves them. */
  constructor(
    private readonly network: string,
    private readonly cluster: string,
    private readonly holdMs: number,
    private readonly dashboardUrl: (network: string, node: NodeId, cluster: string) => string,
    firing: readonly HeldTopologyAlert[] = [],
  ) {
    for (const { alert, resolvesAt } of firing) this.held.set(alert.node, { alert: { ...alert }, resolvesAt });
  }

  /**
   * Alert transitions at `tick`: the changes' alerts fire (starting at
   * `startsAt`, the first tick of the change), alerts held long enough resolve.
   */
  observe(tick: number, changes: readonly NodeChange[], topologyVersion: string, startsAt = tick): Alert[] {
    const out: Alert[] = [];
    for (const [node, held] of this.held) {
      const replaced = changes.some((change) => change.node === node);
      if (tick < held.resolvesAt && !replaced) continue;
      out.push({ ...held.alert, status: 'resolved', endsAt: tick });
      this.held.delete(node);
    }
    for (const { node, change } of changes) {
      const alert: Alert = {
        id: topologyAlertId(this.network, this.cluster, node),
        kind: 'topology',
        status: 'firing',
        network: this.network,
        cluster: this.cluster,
        node,
        modality: 'none',
        probability: 0,
        startsAt,
        dashboardUrl: this.dashboardUrl(this.network, node, this.cluster),
        change,
        topologyVersion,
      };
      this.held.set(node, { alert, resolvesAt: startsAt + this.holdMs });
      out.push({ ...alert });
    }
    return out;
  }

  firing(): Alert[] {
    return [...this.held.values()].map((held) => ({ ...held.alert }));
  }

  /** The firing alerts and when each resolves, for the cluster's checkpoint. */
  toJSON(): HeldTopologyAlert[] {
    return [...this.held.values()].map(({ alert, resolvesAt }) => ({ alert: { ...alert }, resolvesAt }));
  }

  clone(): TopologyAlerts {
    return new TopologyAlerts(this.network, this.cluster, this.holdMs, this.dashboardUrl, this.toJSON());
  }
}

/** Its own id, beside the node's anomaly alert (network/cluster/node). */
export function topologyAlertId(network: string, cluster: string, node: NodeId): string {
  return `${network}/${cluster}/${node}/topology`;
}
