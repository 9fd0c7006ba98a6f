/**
 * Turns the topology module's network and clusters into what the map draws:
 * positions, cluster of each node, radio links. Removed nodes are left out;
 * silent ones stay on the map (they are still part of their cluster).
 */
import type { Topology } from './index.ts';
import type { NodeId } from '../common/types.ts';
export interface NodePlacement {
  node: NodeId;
  cluster: string;
  /** Floor-plan coordinates in any consistent unit; the page scales them to fit. */
  x: number;
  y: number;
}

/** One network's layout as the dashboard draws it. */
export interface TopologyView {
  network: string;
  nodes: NodePlacement[];
  /** Radio links, drawn faintly under the nodes; may be empty. */
  edges: Array<[NodeId, NodeId]>;
}

export function topologyView(network: string, topology: Topology): TopologyView {
  const { graph } = topology.network;
  const nodes: NodePlacement[] = [];
  const shown = new Set<NodeId>();
  graph.forEachNode((node, attributes) => {
    if (attributes.status === 'removed') return;
    const cluster = topology.clustering.nodeCluster.get(node);
    if (cluster === undefined) return;
    nodes.push({ node, cluster, x: attributes.x, y: attributes.y });
    shown.add(node);
  });
  const edges: Array<[NodeId, NodeId]> = [];
  graph.forEachEdge((_edge, _attributes, source, target) => {
    if (shown.has(source) && shown.has(target)) edges.push([source, target]);
  });
  return { network, nodes, edges };
}
