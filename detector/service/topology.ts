import { exportClusters, networkNodes, type Topology } from '../../topology/index.ts';
import type { Placement, TopologyChangeSource } from '../alerts/topology-changes.ts';
import type { AdjacencyProvider } from './processor.ts';

/** Versions whose placements are kept: a cluster's frames name the version they were built against. */
const KEPT_VERSIONS = 16;

interface ClusterEdges {
  index: Map<string, number>;
  edges: Array<[number, number, number]>;
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

  update(topology: Topology, version: string): void {
    this.versions.delete(version);
    this.versions.set(version, placementsOf(topology));
    for (const old of this.versions.keys()) if (this.versions.size > KEPT_VERSIONS) this.versions.delete(old);
    const clusters = new Map<string, ClusterEdges>();
    for (const cluster of exportClusters(topology, { denseLimit: 0 })) {
      clusters.set(cluster.id, { index: new Map(cluster.nodes.map((node, i) => [node, i])), edges: cluster.edges });
    }
    this.clusters = clusters;
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
    const byTopologyIndex = new Map([...entry.index].map(([node, i]) => [i, position.get(node)]));
    const adjacency = nodes.map(() => new Array<number>(nodes.length).fill(0));
    for (const [i, j, weight] of entry.edges) {
      const a = byTopologyIndex.get(i);
      const b = byTopologyIndex.get(j);
      if (a === undefined || b === undefined) continue;
      // The model treats weight <= 0 as "no edge": keep a listed edge an edge.
      const w = weight > 0 ? weight : Number.EPSILON;
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

function placementsOf(topology: Topology): Map<string, Placement> {
  const placements = new Map<string, Placement>();
  const { nodeCluster } = topology.clustering;
  for (const node of networkNodes(topology.network)) {
    const cluster = nodeCluster.get(node.id);
    if (node.status === 'removed' || cluster === undefined) continue;
    placements.set(node.id, { position: `${node.x},${node.y},${node.z ?? 0}`, cluster });
  }
  return placements;
}
