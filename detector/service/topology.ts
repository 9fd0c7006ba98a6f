import { exportClusters, type Topology } from '../../topology/index.ts';
import type { AdjacencyProvider } from './processor.ts';

interface ClusterEdges {
  index: Map<string, number>;
  edges: Array<[number, number, number]>;
}

/**
 * The live topology as the model sees it: per cluster, the N × N adjacency of
 * the nodes a frame lists (in that order). Fed by the `wsn.topology` follower;
 * a new version replaces the edges at once, so joins and leaves take effect
 * without a restart. Clusters the topology does not know fall back to the
 * model's training graph.
 */
export class TopologyAdjacency {
  private clusters = new Map<string, ClusterEdges>();
  /** Adjacency per cluster for the node list last asked for (frames repeat it tick after tick). */
  private cache = new Map<string, { key: string; adjacency: number[][] }>();
  version: string | null = null;

  update(topology: Topology, version: string): void {
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
}
