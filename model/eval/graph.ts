/**
 * The evaluation's graphs from mote positions: a k-nearest-neighbour
 * adjacency (symmetric) and k-means clusters of positions, as the GLSL+
 * extension splits the network.
 */
import { kmeans } from 'ml-kmeans';
import type { NodeId } from '../../common/types.ts';

export type Positions = ReadonlyMap<NodeId, { x: number; y: number }>;

export interface EvalGraph {
  nodes: NodeId[];
  /** N × N, 1 where an edge joins two nodes (symmetric), 0 elsewhere and on the diagonal. */
  adjacency: number[][];
}

function position(positions: Positions, id: NodeId): { x: number; y: number } {
  const p = positions.get(id);
  if (!p) throw new Error(`no position for node ${id}`);
  return p;
}

/** Index of each node's nearest other node. */
export function nearestNodeIndex(nodes: readonly NodeId[], positions: Positions): number[] {
  return nodes.map((id, i) => {
    const p = position(positions, id);
    let best = -1;
    let bestDistance = Infinity;
    nodes.forEach((other, j) => {
      if (j === i) return;
      const q = position(positions, other);
      const d = Math.hypot(p.x - q.x, p.y - q.y);
      if (d < bestDistance) {
        bestDistance = d;
        best = j;
      }
    });
    return best;
  });
}

/** Symmetric kNN adjacency over the given nodes. */
export function knnGraph(nodes: readonly NodeId[], positions: Positions, k: number): EvalGraph {
  const N = nodes.length;
  const adjacency = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  nodes.forEach((id, i) => {
    const p = position(positions, id);
    const order = nodes
      .map((other, j) => ({
        j,
        d: j === i ? Infinity : Math.hypot(position(positions, other).x - p.x, position(positions, other).y - p.y),
      }))
      .sort((a, b) => a.d - b.d)
      .slice(0, Math.min(k, N - 1));
    for (const { j } of order) {
      adjacency[i][j] = 1;
      adjacency[j][i] = 1;
    }
  });
  return { nodes: [...nodes], adjacency };
}

/** k-means on positions; clusters as lists of node indices, ordered by their smallest index. */
export function kmeansClusters(nodes: readonly NodeId[], positions: Positions, k: number, seed: number): number[][] {
  const points = nodes.map((id) => {
    const p = position(positions, id);
    return [p.x, p.y];
  });
  const result = kmeans(points, k, { seed, initialization: 'kmeans++' });
  const groups = Array.from({ length: k }, () => [] as number[]);
  result.clusters.forEach((c, i) => groups[c].push(i));
  return groups.filter((g) => g.length > 0).sort((a, b) => a[0] - b[0]);
}
