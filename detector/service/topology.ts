import { exportClusters, networkNodes, type ClusterExport, type Topology } from '../../topology/index.ts';
import type { Placement, TopologyChangeSource } from '../alerts/topology-changes.ts';
import type { AdjacencyProvider } from './processor.ts';

/** Versions whose placements are kept: a cluster's frames name the version they were built against. */
const KEPT_VERSIONS = 16;

/**
 * One cluster's edges as the topology lists them, in typed arrays: at 100,000
 * nodes an array per edge and a Map per cluster took about 10 MB more.
 */
interface ClusterEdges {
  /** The cluster's nodes; edge ends index this list. */
  nodes: readonly string[];
  from: Int32Array;
  to: Int32Array;
  weight: Float64Array;
}

/**
 * The live topology as the model sees it: per cluster, the N × N adjacency of
 * the nodes a frame lists (in that order). Fed by the `wsn.topology` follower;
 * a new version replaces the edges at once, so joins and leaves take effect
 * without a restart. Clusters the topology does not know fall back to the
 * model's training graph. It also keeps where the nodes were in the last
 * versions, so the topology alerts can tell a move from an addition.
 */
export class TopologyAdjacency implements TopologyChangeSource {
  private clusters = new Map<string, ClusterEdges>();
  /** Adjacency per cluster for the node list last asked for (frames repeat it tick after tick). */
  private cache = new Map<string, { key: string; adjacency: number[][] }>();
  version: string | null = null;
  /** Node placements per version, oldest first (at most KEPT_VERSIONS). */
  private readonly versions = new Map<string, Map<string, Placement>>();

  /** Applies a version; `clusters` are its exports with `denseLimit` 0 when the caller has them (a follower does). */
  update(
    topology: Topology,
    version: string,
    clusters: readonly ClusterExport[] = exportClusters(topology, { denseLimit: 0 }),
  ): void {
    const latest = [...this.versions.values()].at(-1);
    this.versions.delete(version);
    this.versions.set(version, placementsOf(topology, latest));
    for (const old of this.versions.keys()) if (this.versions.size > KEPT_VERSIONS) this.versions.delete(old);
    const edgesByCluster = new Map<string, ClusterEdges>();
    for (const cluster of clusters) {
      const count = cluster.edges.length;
      const edges = {
        nodes: cluster.nodes,
        from: new Int32Array(count),
        to: new Int32Array(count),
        weight: new Float64Array(count),
      };
      cluster.edges.forEach(([i, j, weight], e) => {
        edges.from[e] = i;
        edges.to[e] = j;
        edges.weight[e] = weight;
      });
      edgesByCluster.set(cluster.id, edges);
    }
    this.clusters = edgesByCluster;
    this.cache = new Map();
    this.version = version;
  }

  readonly provider: AdjacencyProvider = (_network, cluster, nodes) => {
    const entry = this.clusters.get(cluster);
    if (!entry) return undefined;
    const key = nodes.join('\u0000');
    const cached = this.cache.get(cluster);
    if (cached?.key === key) return cached.adjacency;
    const position = new Map(nodes.map((node, i) => [node, i]));
    const byTopologyIndex = entry.nodes.map((node) => position.get(node));
    const adjacency = nodes.map(() => new Array<number>(nodes.length).fill(0));
    for (let e = 0; e < entry.from.length; e++) {
      const a = byTopologyIndex[entry.from[e]];
      const b = byTopologyIndex[entry.to[e]];
      if (a === undefined || b === undefined) continue;
      // The model treats weight <= 0 as "no edge": keep a listed edge an edge.
      const w = entry.weight[e] > 0 ? entry.weight[e] : Number.EPSILON;
      adjacency[a][b] = w;
      adjacency[b][a] = w;
    }
    this.cache.set(cluster, { key, adjacency });
    return adjacency;
  };

  placements(version: string): ReadonlyMap<string, Placement> | undefined {
    return this.versions.get(version);
  }

  previousVersion(version: string): string | undefined {
    let previous: string | undefined;
    for (const seen of this.versions.keys()) {
      if (seen === version) return previous;
      previous = seen;
    }
    return undefined;
  }
}

/**
 * Where every node is in `topology`. A node placed as in `previous` keeps
 * that version's Placement, so the kept versions share what did not change:
 * a version costs its Map, not a Placement and a position text per node.
 */
function placementsOf(topology: Topology, previous?: ReadonlyMap<string, Placement>): Map<string, Placement> {
  const placements = new Map<string, Placement>();
  const { nodeCluster } = topology.clustering;
  for (const node of networkNodes(topology.network)) {
    const cluster = nodeCluster.get(node.id);
    if (node.status === 'removed' || cluster === undefined) continue;
    const position = `${node.x},${node.y},${node.z ?? 0}`;
    const before = previous?.get(node.id);
    placements.set(
      node.id,
      before?.cluster === cluster && before.position === position ? before : { position, cluster },
    );
  }
  return placements;
}
