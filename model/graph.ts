import { createHash } from 'node:crypto';

export type { ClusterGraph } from '../topology/adjacency.ts';
import type { ClusterGraph } from '../topology/adjacency.ts';

/** Checks the adjacency is N×N with finite entries; throws RangeError saying where it is not. */
export function validateGraph(graph: ClusterGraph): void {
  const n = graph.nodes.length;
  if (new Set(graph.nodes).size !== n) throw new RangeError('ClusterGraph.nodes has duplicate node ids');
  if (graph.adjacency.length !== n)
    throw new RangeError(`ClusterGraph.adjacency has ${graph.adjacency.length} rows, expected ${n} (one per node)`);
  graph.adjacency.forEach((row, i) => {
    if (row.length !== n)
      throw new RangeError(
        `ClusterGraph.adjacency row ${i} (${graph.nodes[i]}) has ${row.length} entries, expected ${n}`,
      );
    row.forEach((value, j) => {
      if (!Number.isFinite(value)) throw new RangeError(`ClusterGraph.adjacency[${i}][${j}] is not a finite number`);
    });
  });
}

/**
 * The 0/1 attention mask (row-major N×N): 1 on edges (either direction, so
 * attention is symmetric) and on the diagonal.
 */
export function attentionMask(adjacency: number[][]): Float32Array {
  const n = adjacency.length;
  const mask = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    mask[i * n + i] = 1;
    for (let j = 0; j < n; j++) {
      if (adjacency[i][j] > 0 || adjacency[j][i] > 0) mask[i * n + j] = 1;
    }
  }
  return mask;
}

/** Position of each node id in a graph's node list, made once per list (graphs are not changed in place). */
const nodeIndexes = new WeakMap<readonly string[], Map<string, number>>();
function nodeIndex(nodes: readonly string[]): Map<string, number> {
  let index = nodeIndexes.get(nodes);
  if (!index) {
    // A model's graph is its whole training network: building this per frame made each frame's cost grow with it.
    index = new Map(nodes.map((node, i) => [node, i]));
    nodeIndexes.set(nodes, index);
  }
  return index;
}

/** The graph restricted (and reordered) to `nodes`; nodes it does not know get only their self-loop. */
export function subgraph(graph: ClusterGraph, nodes: string[]): ClusterGraph {
  const index = nodeIndex(graph.nodes);
  const adjacency = nodes.map((a) =>
    nodes.map((b) => {
      const i = index.get(a);
      const j = index.get(b);
      return i === undefined || j === undefined ? 0 : graph.adjacency[i][j];
    }),
  );
  return { nodes: [...nodes], adjacency };
}

/** A fully connected graph over `nodes` (every pair an edge). */
export function completeGraph(nodes: string[]): ClusterGraph {
  return { nodes: [...nodes], adjacency: nodes.map((_, i) => nodes.map((__, j) => (i === j ? 0 : 1))) };
}

/** A stable hash of the node ids and the edge set, stored with a model to tell which topology it was trained on. */
export function topologyHash(graph: ClusterGraph): string {
  const mask = attentionMask(graph.adjacency);
  const edges: string[] = [];
  const n = graph.nodes.length;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) if (mask[i * n + j]) edges.push(`${graph.nodes[i]}-${graph.nodes[j]}`);
  return createHash('sha256')
    .update(JSON.stringify({ nodes: graph.nodes, edges }))
    .digest('hex')
    .slice(0, 16);
}
