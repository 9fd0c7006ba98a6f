/**
 * The network a backtest runs on: with a topology file, the clusters and
 * edges the live services would use; without one, a single cluster of every
 * node in the history, its edges from the model's training graph (or every
 * pair, for nodes the model never saw).
 */
import { UserError } from '../../common/errors.ts';
import type { AdjacencyProvider } from '../../detector/service/processor.ts';
import { TopologyAdjacency } from '../../detector/service/topology.ts';
import { NodeDirectory, layoutVersion, type NetworkLayout } from '../../ingest/directory.ts';
import { layoutFromTopology } from '../../ingest/topology-source.ts';
import type { Detector } from '../../model/index.ts';
import { createTopology, loadTopology, type Topology } from '../../topology/index.ts';

export interface BacktestNetwork {
  directory: NodeDirectory;
  adjacency?: AdjacencyProvider;
  neighbours: Map<string, string[]>;
  nearest: (nodes: string[]) => number[];
  description: string;
}

/**
 * Nodes whose topology lists no modality take `modalities` (those of the
 * history): ingest then lists every one in every frame (null until a node
 * reports it), so a first tick where no node has, say, humidity yet does not
 * look like a network without humidity to the detector.
 */
function withModalities(layout: NetworkLayout, modalities: readonly string[]): NetworkLayout {
  if (modalities.length === 0) return layout;
  return {
    ...layout,
    clusters: layout.clusters.map((c) => ({
      ...c,
      nodes: c.nodes.map((n) => (n.modalities.length > 0 ? n : { ...n, modalities: [...modalities] })),
    })),
  };
}

export function networkFromTopology(
  network: string,
  topology: Topology,
  modalities: readonly string[] = [],
): BacktestNetwork {
  const layout = withModalities(layoutFromTopology(network, topology), modalities);
  const adjacency = new TopologyAdjacency();
  adjacency.update(topology, layout.version);
  const graph = topology.network.graph;
  const neighbours = new Map(graph.nodes().map((node) => [node, graph.neighbors(node)]));
  const position = (node: string) => ({ x: graph.getNodeAttribute(node, 'x'), y: graph.getNodeAttribute(node, 'y') });
  const nearest = (nodes: string[]): number[] =>
    nodes.map((node, i) => {
      if (!graph.hasNode(node)) return (i + 1) % nodes.length;
      const p = position(node);
      let best = (i + 1) % nodes.length;
      let bestDistance = Infinity;
      nodes.forEach((other, j) => {
        if (j === i || !graph.hasNode(other)) return;
        const q = position(other);
        const d = Math.hypot(p.x - q.x, p.y - q.y);
        if (d < bestDistance) [best, bestDistance] = [j, d];
      });
      return best;
    });
  const directory = new NodeDirectory(layout);
  return {
    directory,
    adjacency: adjacency.provider,
    neighbours,
    nearest,
    description: `${directory.nodeCount} nodes in ${directory.clusters.length} cluster(s) from the topology`,
  };
}

export function networkFromFile(network: string, file: string, modalities: readonly string[] = []): BacktestNetwork {
  try {
    return networkFromTopology(network, createTopology(loadTopology(file)), modalities);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      'TOPOLOGY_INVALID',
      `cannot use ${file} as the topology: ${(error as Error).message}`,
      'Pass a node position file (IBRL node.txt, .json or .csv) to --topology, or leave it out.',
    );
  }
}

/** One cluster of all `nodes`; edges from the model's graph where it knows both ends, every pair otherwise. */
export function singleCluster(
  network: string,
  nodes: string[],
  model: Pick<Detector, 'graph'>,
  modalities: readonly string[] = [],
): BacktestNetwork {
  const known = new Map(model.graph.nodes.map((node, i) => [node, i]));
  const edge = (a: string, b: string): number => {
    const i = known.get(a);
    const j = known.get(b);
    if (i === undefined || j === undefined) return a === b ? 0 : 1;
    return model.graph.adjacency[i][j] > 0 ? model.graph.adjacency[i][j] : 0;
  };
  const layout = {
    network,
    clusters: [{ id: 'all', nodes: nodes.map((id) => ({ id, modalities: [...modalities] })) }],
  };
  const directory = new NodeDirectory({ ...layout, version: layoutVersion(layout) });
  const adjacency: AdjacencyProvider = (_network, _cluster, list) => list.map((a) => list.map((b) => edge(a, b)));
  const neighbours = new Map(nodes.map((a) => [a, nodes.filter((b) => b !== a && edge(a, b) > 0)]));
  const unknown = nodes.filter((node) => !known.has(node)).length;
  return {
    directory,
    adjacency,
    neighbours,
    nearest: (list) => list.map((_, i) => (i + 1) % list.length),
    description: `${nodes.length} nodes in one cluster (no --topology); edges from the model's graph${unknown > 0 ? `, every pair for the ${unknown} node(s) it does not know` : ''}`,
  };
}
