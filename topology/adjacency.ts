/**
 * The topology the attention layers see: node ids and an N×N adjacency where
 * a value > 0 is an edge (its weight). Self-loops are implied.
 */
export interface ClusterGraph {
  nodes: string[];
  adjacency: number[][];
}

/**
 * A symmetric k-nearest-neighbour graph over node positions, edge weight
 * 1 / (1 + d / 10 m): the attention layers only use which edges exist, the
 * weight tells the nearest neighbour apart (used by the paper's kind rule).
 */
export function knnGraph(
  nodes: string[],
  positions: ReadonlyArray<readonly [number, number]>,
  k: number,
): ClusterGraph {
  const n = nodes.length;
  if (positions.length !== n) throw new RangeError(`knnGraph: ${positions.length} positions for ${n} nodes`);
  const distance = (i: number, j: number): number =>
    Math.hypot(positions[i][0] - positions[j][0], positions[i][1] - positions[j][1]);
  const adjacency = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const nearest = Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .sort((a, b) => distance(i, a) - distance(i, b) || a - b)
      .slice(0, Math.min(k, n - 1));
    for (const j of nearest) {
      const weight = 1 / (1 + distance(i, j) / 10);
      adjacency[i][j] = weight;
      adjacency[j][i] = weight;
    }
  }
  return { nodes: [...nodes], adjacency };
}
