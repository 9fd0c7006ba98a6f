/**
 * buildNetwork: sensor nodes + edge rule → a connected, weighted graphology
 * graph. Nodes are added in canonical id order so the graph (and every hash
 * derived from it) does not depend on input order.
 */
import { UndirectedGraph } from 'graphology';
import { UserError } from '../common/errors.ts';
import { bridgeIslands, resolveEdgeRule, ruleEdges, validateEdgeRule, weightOf, type RawEdge } from './edge-rules.ts';
import { compareNodeIds } from './node-order.ts';
import { SpatialGrid, type Points } from './spatial-grid.ts';
import type {
  EdgeAttributes,
  EdgeRule,
  ExcludedNode,
  Network,
  NodeAttributes,
  OutlierWarning,
  ResolvedEdgeRule,
  SensorNode,
} from './types.ts';

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

/** The edges of a node set under a rule, before any graph is built. */
export interface ComputedEdges {
  /** The nodes in canonical order; edge ends index into this. */
  ordered: SensorNode[];
  /** Rule edges then bridges, each with i < j. */
  edges: RawEdge[];
  rule: ResolvedEdgeRule;
  /** Connected components the rule alone left. */
  components: number;
}

/** Validates nodes and computes rule edges, the weight scale and the bridges. */
export function computeEdges(nodes: readonly SensorNode[], rule: EdgeRule): ComputedEdges {
  validateEdgeRule(rule);
  const ordered = [...nodes].sort((a, b) => compareNodeIds(a.id, b.id));
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i].id === ordered[i - 1].id)
      throw new UserError(
        'TOPOLOGY_DUPLICATE',
        `node id "${ordered[i].id}" appears twice`,
        'give every node a unique id',
      );
  }
  for (const node of ordered) {
    if (node.status === 'removed')
      throw new UserError(
        'TOPOLOGY_REMOVED',
        `node "${node.id}" has status removed and cannot be part of the network`,
        'leave removed nodes out',
      );
    if (![node.x, node.y, node.z ?? 0].every(Number.isFinite))
      throw new UserError('TOPOLOGY_POSITION', `node "${node.id}" has a non-finite coordinate`);
  }
  const points = toPoints(ordered);
  const grid = new SpatialGrid(points);
  const edges = ruleEdges(points, grid, rule);
  const resolved = resolveEdgeRule(rule, edges);
  const { bridges, components } = bridgeIslands(points, grid, edges);
  for (const b of bridges) edges.push(b);
  return { ordered, edges, rule: resolved, components: ordered.length === 0 ? 0 : components };
}

export function edgeAttributes(e: RawEdge, rule: ResolvedEdgeRule): EdgeAttributes {
  return { distance: e.d, weight: weightOf(e.d, rule.weight, rule.scale), bridge: e.bridge };
}

/** Builds the network from nodes (status `removed` is not allowed here: leave such nodes out). */
export function buildNetwork(nodes: readonly SensorNode[], rule: EdgeRule, options: BuildOptions = {}): Network {
  const { ordered, edges, rule: resolved, components } = computeEdges(nodes, rule);
  const graph = new UndirectedGraph<NodeAttributes, EdgeAttributes>();
  for (const node of ordered) {
    const attrs: NodeAttributes = { x: node.x, y: node.y, modalities: [...node.modalities], status: node.status };
    if (node.z !== undefined) attrs.z = node.z;
    graph.addNode(node.id, attrs);
  }
  for (const e of edges) graph.addEdge(ordered[e.i].id, ordered[e.j].id, edgeAttributes(e, resolved));
  return {
    graph,
    rule: resolved,
    ruleComponents: components,
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
