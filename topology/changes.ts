/**
 * Run-time changes: nodes join, leave, move, go silent. The rule is to move
 * as few nodes between clusters as possible, so models and their state stay
 * with their nodes:
 * - a joining node goes to the cluster with the nearest centroid; nobody else
 *   moves unless that cluster now exceeds the maximum size, and then only that
 *   cluster is split (its largest part keeps the id);
 * - a leaving node is taken out of its cluster (an emptied cluster is dropped);
 * - a moved node changes cluster only when another centroid is now nearer;
 * - a status change (active ⇄ silent) moves nobody.
 * Edges are recomputed from the network's resolved edge rule after each change
 * in the node set or positions (same rule and weight scale as before), and
 * only the difference is applied to the graph.
 */
import { UserError } from '../common/errors.ts';
import { boundedKMeans } from './bounded-kmeans.ts';
import { centroidOf } from './clustering.ts';
import { newClusterId } from './cluster-ids.ts';
import { toEdgeRule } from './edge-rules.ts';
import { computeEdges, edgeAttributes, networkNodes } from './network.ts';
import { compareNodeIds, sortNodeIds } from './node-order.ts';
import type { ChangeResult, Cluster, EdgeAttributes, Position, Topology, TopologyChange } from './types.ts';

function squaredDistance(a: Position, b: Position): number {
  return (a.x - b.x) ** 2 + (a.y - b.y) ** 2 + ((a.z ?? 0) - (b.z ?? 0)) ** 2;
}

function nearestCluster(topology: Topology, position: Position): Cluster | null {
  let best: Cluster | null = null;
  let bestD = Infinity;
  for (const cluster of topology.clustering.clusters.values()) {
    if (cluster.members.size === 0) continue;
    const d = squaredDistance(position, cluster.centroid);
    if (d < bestD || (d === bestD && best !== null && compareNodeIds(cluster.id, best.id) < 0)) {
      best = cluster;
      bestD = d;
    }
  }
  return best;
}

/**
 * Recomputes the edges from the current nodes with the stored rule (same
 * weight scale) and applies only the difference to the graph. Returns the
 * nodes at the ends of edges that appeared, vanished or changed.
 */
function rebuildEdges(topology: Topology): Set<string> {
  const { graph, rule } = topology.network;
  const computed = computeEdges(networkNodes(topology.network), toEdgeRule(rule));
  const touched = new Set<string>();
  const wanted = new Map<string, { source: string; target: string; attrs: EdgeAttributes }>();
  for (const e of computed.edges) {
    const source = computed.ordered[e.i].id;
    const target = computed.ordered[e.j].id;
    wanted.set(`${source}\u0000${target}`, { source, target, attrs: edgeAttributes(e, rule) });
  }
  for (const edge of graph.edges()) {
    const [s, t] = graph.extremities(edge);
    const key = compareNodeIds(s, t) <= 0 ? `${s}\u0000${t}` : `${t}\u0000${s}`;
    const next = wanted.get(key);
    if (!next) {
      graph.dropEdge(edge);
      touched.add(s);
      touched.add(t);
      continue;
    }
    wanted.delete(key);
    const current = graph.getEdgeAttributes(edge);
    if (current.weight !== next.attrs.weight || current.bridge !== next.attrs.bridge) {
      graph.replaceEdgeAttributes(edge, next.attrs);
      touched.add(s);
      touched.add(t);
    }
  }
  for (const { source, target, attrs } of wanted.values()) {
    graph.addEdge(source, target, attrs);
    touched.add(source);
    touched.add(target);
  }
  topology.network.ruleComponents = computed.components;
  return touched;
}

function splitIfOverflowing(topology: Topology, cluster: Cluster, result: ChangeResult): void {
  const { clustering, network } = topology;
  if (cluster.members.size <= clustering.options.maxSize) return;
  const members = sortNodeIds(cluster.members);
  const coords = members.map((id) => {
    const a = network.graph.getNodeAttributes(id);
    return [a.x, a.y, a.z ?? 0];
  });
  const parts = boundedKMeans(
    coords,
    members.map((_, i) => i),
    {
      maxSize: clustering.options.maxSize,
      seed: clustering.options.seed,
      maxIterations: clustering.options.maxIterations,
    },
  ).map((p) => p.map((i) => members[i]).sort(compareNodeIds));
  // The largest part keeps the id (fewest nodes move); ties go to the part with the first anchor.
  parts.sort((a, b) => b.length - a.length || compareNodeIds(a[0], b[0]));
  const [kept, ...others] = parts;
  cluster.members = new Set(kept);
  cluster.centroid = centroidOf(network.graph, kept);
  result.touchedClusters.push(cluster.id);
  for (const part of others) {
    const id = newClusterId(part, clustering.clusters);
    clustering.clusters.set(id, { id, members: new Set(part), centroid: centroidOf(network.graph, part) });
    for (const m of part) {
      clustering.nodeCluster.set(m, id);
      result.moved.push(m);
    }
    result.createdClusters.push(id);
    result.touchedClusters.push(id);
  }
}

function requireNode(topology: Topology, id: string): void {
  if (!topology.network.graph.hasNode(id))
    throw new UserError('TOPOLOGY_UNKNOWN_NODE', `node "${id}" is not in the network`, 'check the node id');
}

/** Applies one change in place and reports which nodes moved between clusters. */
export function applyChange(topology: Topology, change: TopologyChange): ChangeResult {
  const { clustering } = topology;
  const result: ChangeResult = { moved: [], createdClusters: [], removedClusters: [], touchedClusters: [] };
  let edgeTouched = new Set<string>();
  switch (change.kind) {
    case 'join':
      edgeTouched = applyJoin(topology, change.node, result);
      break;
    case 'leave':
      edgeTouched = applyLeave(topology, change.id, result);
      break;
    case 'move':
      edgeTouched = applyMove(topology, change.id, change.position, result);
      break;
    case 'status':
      requireNode(topology, change.id);
      topology.network.graph.setNodeAttribute(change.id, 'status', change.status);
      result.touchedClusters.push(clustering.nodeCluster.get(change.id)!);
      break;
  }
  for (const id of edgeTouched) {
    const c = clustering.nodeCluster.get(id);
    if (c !== undefined) result.touchedClusters.push(c);
  }
  result.touchedClusters = [...new Set(result.touchedClusters)]
    .filter((id) => clustering.clusters.has(id))
    .sort(compareNodeIds);
  return result;
}

type JoiningNode = Extract<TopologyChange, { kind: 'join' }>['node'];
type NewPosition = Extract<TopologyChange, { kind: 'move' }>['position'];

/** A node joins the nearest cluster (or a new one); returns the nodes whose edges changed. */
function applyJoin(topology: Topology, node: JoiningNode, result: ChangeResult): Set<string> {
  const { network, clustering } = topology;
  if (network.graph.hasNode(node.id))
    throw new UserError(
      'TOPOLOGY_DUPLICATE',
      `node "${node.id}" is already in the network`,
      'use a move or status change for an existing node',
    );
  if (node.status === 'removed')
    throw new UserError('TOPOLOGY_REMOVED', `node "${node.id}" cannot join with status removed`);
  network.graph.addNode(node.id, {
    x: node.x,
    y: node.y,
    ...(node.z !== undefined ? { z: node.z } : {}),
    modalities: [...node.modalities].sort(),
    status: node.status,
  });
  const edgeTouched = rebuildEdges(topology);
  let target = nearestCluster(topology, node);
  if (!target) {
    const id = newClusterId([node.id], clustering.clusters);
    target = { id, members: new Set(), centroid: { x: node.x, y: node.y } };
    clustering.clusters.set(id, target);
    result.createdClusters.push(id);
  }
  target.members.add(node.id);
  clustering.nodeCluster.set(node.id, target.id);
  target.centroid = centroidOf(network.graph, target.members);
  result.touchedClusters.push(target.id);
  splitIfOverflowing(topology, target, result);
  // The joining node's own first assignment is not a move.
  result.moved = result.moved.filter((id) => id !== node.id);
  return edgeTouched;
}

/** A node leaves; an emptied cluster is removed. Returns the nodes whose edges changed. */
function applyLeave(topology: Topology, id: string, result: ChangeResult): Set<string> {
  const { network, clustering } = topology;
  requireNode(topology, id);
  const clusterId = clustering.nodeCluster.get(id)!;
  const cluster = clustering.clusters.get(clusterId)!;
  const formerNeighbours = network.graph.neighbors(id);
  network.graph.dropNode(id);
  cluster.members.delete(id);
  clustering.nodeCluster.delete(id);
  if (cluster.members.size === 0) {
    clustering.clusters.delete(clusterId);
    result.removedClusters.push(clusterId);
  } else {
    cluster.centroid = centroidOf(network.graph, cluster.members);
    result.touchedClusters.push(clusterId);
  }
  const edgeTouched = rebuildEdges(topology);
  for (const n of formerNeighbours) edgeTouched.add(n);
  return edgeTouched;
}

/** A node moves, and changes cluster when another one is nearer. Returns the nodes whose edges changed. */
function applyMove(topology: Topology, id: string, p: NewPosition, result: ChangeResult): Set<string> {
  const { network, clustering } = topology;
  requireNode(topology, id);
  if (![p.x, p.y, p.z ?? 0].every(Number.isFinite))
    throw new UserError('TOPOLOGY_POSITION', `new position of "${id}" has a non-finite coordinate`);
  network.graph.mergeNodeAttributes(id, { x: p.x, y: p.y, ...(p.z !== undefined ? { z: p.z } : {}) });
  const edgeTouched = rebuildEdges(topology);
  const fromId = clustering.nodeCluster.get(id)!;
  const from = clustering.clusters.get(fromId)!;
  from.centroid = centroidOf(network.graph, from.members);
  result.touchedClusters.push(fromId);
  const target = nearestCluster(topology, p);
  if (target && target.id !== fromId && from.members.size > 1) {
    from.members.delete(id);
    from.centroid = centroidOf(network.graph, from.members);
    target.members.add(id);
    target.centroid = centroidOf(network.graph, target.members);
    clustering.nodeCluster.set(id, target.id);
    result.moved.push(id);
    result.touchedClusters.push(target.id);
    splitIfOverflowing(topology, target, result);
  }
  return edgeTouched;
}
