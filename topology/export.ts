/**
 * exportClusters: per cluster, what a model needs — ordered nodes, positions,
 * weighted adjacency (dense N×N and sparse), neighbour lists — and a version
 * hash so a trained model can check that it is used on the topology it was
 * trained for. The hash covers what changes the model's input (nodes, their
 * positions and modalities, edges and weights) and not node status: a node
 * going silent does not make a model incompatible.
 */
import { createHash } from 'node:crypto';
import { orderedClusters } from './clustering.ts';
import { compareNodeIds } from './node-order.ts';
import { partitionForCluster } from './partition.ts';
import type { ClusterExport, Topology } from './types.ts';

export interface ExportOptions {
  /** Largest cluster exported with a dense adjacency matrix (default 1024). */
  denseLimit?: number;
}

/** Rounds to 12 significant digits so the hash is stable against last-bit float noise. */
function canonicalNumber(v: number): number {
  return Number(v.toPrecision(12));
}

/** sha256 (hex) of a value's JSON; callers pass arrays and plain objects built in a fixed key order. */
export function sha256Json(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export function exportCluster(topology: Topology, clusterId: string, options: ExportOptions = {}): ClusterExport {
  const { graph } = topology.network;
  const cluster = topology.clustering.clusters.get(clusterId);
  if (!cluster) throw new RangeError(`unknown cluster ${clusterId}`);
  const nodes = [...cluster.members].sort(compareNodeIds);
  const index = new Map(nodes.map((id, i) => [id, i]));
  const positions = nodes.map((id) => {
    const a = graph.getNodeAttributes(id);
    return a.z === undefined ? [a.x, a.y] : [a.x, a.y, a.z];
  });
  const modalities = nodes.map((id) => [...graph.getNodeAttribute(id, 'modalities')]);
  const statuses = nodes.map((id) => graph.getNodeAttribute(id, 'status'));
  const edges: Array<[number, number, number]> = [];
  const neighbours: number[][] = nodes.map(() => []);
  nodes.forEach((id, i) => {
    graph.forEachEdge(id, (_edge, attrs, source, target) => {
      const other = source === id ? target : source;
      const j = index.get(other);
      if (j === undefined || j === i) return;
      neighbours[i].push(j);
      if (i < j) edges.push([i, j, attrs.weight]);
    });
  });
  for (const list of neighbours) list.sort((a, b) => a - b);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const denseLimit = options.denseLimit ?? 1024;
  let adjacency: number[][] | null = null;
  if (nodes.length <= denseLimit) {
    adjacency = nodes.map(() => new Array<number>(nodes.length).fill(0));
    for (const [i, j, w] of edges) {
      adjacency[i][j] = w;
      adjacency[j][i] = w;
    }
  }
  const version = sha256Json({
    format: 1,
    nodes,
    positions: positions.map((p) => p.map(canonicalNumber)),
    modalities,
    edges: edges.map(([i, j, w]) => [i, j, canonicalNumber(w)]),
  });
  return {
    id: cluster.id,
    partition: partitionForCluster(cluster.id, topology.clustering.options.partitions),
    nodes,
    positions,
    modalities,
    statuses,
    adjacency,
    edges,
    neighbours,
    version,
  };
}

/** Every cluster's export, in canonical order of cluster ids. */
export function exportClusters(topology: Topology, options: ExportOptions = {}): ClusterExport[] {
  return orderedClusters(topology.clustering).map((c) => exportCluster(topology, c.id, options));
}

/**
 * Version of the whole topology: sha256 over every cluster's id and version
 * and the edges that cross clusters. Equal versions mean equal exports.
 */
export function topologyVersion(
  topology: Topology,
  clusterExports: ClusterExport[] = exportClusters(topology, { denseLimit: 0 }),
): string {
  const { graph } = topology.network;
  const { nodeCluster } = topology.clustering;
  const crossing: Array<[string, string, number]> = [];
  graph.forEachEdge((_e, attrs, source, target) => {
    if (nodeCluster.get(source) === nodeCluster.get(target)) return;
    const [a, b] = compareNodeIds(source, target) <= 0 ? [source, target] : [target, source];
    crossing.push([a, b, canonicalNumber(attrs.weight)]);
  });
  crossing.sort((p, q) => compareNodeIds(p[0], q[0]) || compareNodeIds(p[1], q[1]));
  return sha256Json({ format: 1, clusters: clusterExports.map((c) => [c.id, c.version]), crossing });
}
