/**
 * buildNetwork: sensor nodes + edge rule → a connected, weighted graphology
 * graph. Nodes are added in canonical id order so the graph (and every hash
 * derived from it) does not depend on input order.
 */
import { UndirectedGraph } from 'graphology';
import { UserError } from '../common/errors.ts';
import { bridgeIslands, resolveEdgeRule, ruleEdges, validateEdgeRule, weightOf } from './edge-rules.ts';
import { compareNodeIds } from './node-order.ts';
import { SpatialGrid, type Points } from './spatial-grid.ts';
import type { EdgeAttributes, EdgeRule, ExcludedNode, Network, NodeAttributes, OutlierWarning, SensorNode } from './types.ts';

export interface BuildOptions {
  excluded?: ExcludedNode[];
  warnings?: OutlierWarning[];
}

function toPoints(nodes: readonly SensorNode[]): Points {
  const n = nodes.length;
  const points: Points = { xs: new Float64Array(n), ys: new Float64Array(n), zs: new Float64Array(n) };
  nodes.forEach((node, i) => {
    points.xs[i] = node.x;
    points.ys[i] = node.y;
    points.zs[i] = node.z ?? 0;
  });
  return points;
}

/** Builds the network from nodes (status `removed` is not allowed here: leave such nodes out). */
export function buildNetwork(nodes: readonly SensorNode[], rule: EdgeRule, options: BuildOptions = {}): Network {
  validateEdgeRule(rule);
  const ordered = [...nodes].sort((a, b) => compareNodeIds(a.id, b.id));
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i].id === ordered[i - 1].id) throw new UserError('TOPOLOGY_DUPLICATE', `node id "${ordered[i].id}" appears twice`, 'give every node a unique id');
  }
  for (const node of ordered) {
    if (node.status === 'removed') throw new UserError('TOPOLOGY_REMOVED', `node "${node.id}" has status removed and cannot be part of the network`, 'leave removed nodes out');
    if (![node.x, node.y, node.z ?? 0].every(Number.isFinite)) throw new UserError('TOPOLOGY_POSITION', `node "${node.id}" has a non-finite coordinate`);
  }
  const points = toPoints(ordered);
  const grid = new SpatialGrid(points);
  const edges = ruleEdges(points, grid, rule);
  const resolved = resolveEdgeRule(rule, edges);
  const { bridges, components } = bridgeIslands(points, grid, edges);

  const graph = new UndirectedGraph<NodeAttributes, EdgeAttributes>();
  for (const node of ordered) {
    const attrs: NodeAttributes = { x: node.x, y: node.y, modalities: [...node.modalities], status: node.status };
    if (node.z !== undefined) attrs.z = node.z;
    graph.addNode(node.id, attrs);
  }
  for (const e of [...edges, ...bridges]) {
    graph.addEdge(ordered[e.i].id, ordered[e.j].id, { distance: e.d, weight: weightOf(e.d, resolved.weight, resolved.scale), bridge: e.bridge });
  }
  return {
    graph,
    rule: resolved,
    ruleComponents: ordered.length === 0 ? 0 : components,
    excluded: options.excluded ?? [],
    warnings: options.warnings ?? [],
  };
}

/** The nodes of a network as plain records, in canonical order. */
export function networkNodes(network: Network): SensorNode[] {
  const out: SensorNode[] = [];
  network.graph.forEachNode((id, a) => {
    const node: SensorNode = { id, x: a.x, y: a.y, modalities: [...a.modalities], status: a.status };
    if (a.z !== undefined) node.z = a.z;
    out.push(node);
  });
  return out.sort((a, b) => compareNodeIds(a.id, b.id));
}
