import { describe, expect, it } from 'vitest';
import { applyChange, createTopology, exportClusters, loadTopology, topologyVersion } from '../../../topology/index.ts';
import { ibrlNodeFile, randomNodes, shuffled } from './fixtures.ts';

describe('exportClusters', () => {
  const topology = createTopology(loadTopology(ibrlNodeFile), { edgeRule: { knn: 4 }, cluster: { maxSize: 12 } });
  const clusters = exportClusters(topology);

  it('gives each cluster ordered nodes, positions and a symmetric N×N adjacency without self-loops', () => {
    expect(clusters.reduce((s, c) => s + c.nodes.length, 0)).toBe(54);
    for (const c of clusters) {
      const n = c.nodes.length;
      expect(c.positions).toHaveLength(n);
      expect(c.adjacency).toHaveLength(n);
      const sortedIds = [...c.nodes].sort((a, b) => Number(a) - Number(b));
      expect(c.nodes).toEqual(sortedIds);
      c.adjacency!.forEach((row, i) => {
        expect(row).toHaveLength(n);
        expect(row[i]).toBe(0);
        row.forEach((w, j) => expect(c.adjacency![j][i]).toBe(w));
      });
    }
  });

  it('matches the graph: adjacency, edges and neighbour lists agree with the intra-cluster edges', () => {
    const { graph } = topology.network;
    for (const c of clusters) {
      c.nodes.forEach((a, i) => {
        const expected = c.nodes.map((b, j) => (j !== i && graph.hasEdge(a, b) ? j : -1)).filter((j) => j >= 0);
        expect(c.neighbours[i]).toEqual(expected);
        for (const j of expected)
          expect(c.adjacency![i][j]).toBe(graph.getEdgeAttribute(graph.edge(a, c.nodes[j])!, 'weight'));
        const attrs = graph.getNodeAttributes(a);
        expect(c.positions[i]).toEqual([attrs.x, attrs.y]);
      });
      expect(c.edges.length).toBe(c.neighbours.reduce((s, l) => s + l.length, 0) / 2);
      for (const [i, j, w] of c.edges) expect(c.adjacency![i][j]).toBe(w);
    }
  });

  it('leaves the dense matrix out above the dense limit', () => {
    const sparse = exportClusters(topology, { denseLimit: 5 });
    for (const c of sparse) expect(c.adjacency).toBeNull();
    expect(sparse.map((c) => c.version)).toEqual(clusters.map((c) => c.version));
  });

  it('versions are sha256 hex, independent of input order, and change with the topology', () => {
    for (const c of clusters) expect(c.version).toMatch(/^[0-9a-f]{64}$/);
    const nodes = randomNodes(120, 31);
    const a = createTopology(nodes, { cluster: { maxSize: 30 } });
    const b = createTopology(shuffled(nodes), { cluster: { maxSize: 30 } });
    expect(exportClusters(b).map((c) => [c.id, c.version])).toEqual(exportClusters(a).map((c) => [c.id, c.version]));
    expect(topologyVersion(b)).toBe(topologyVersion(a));
    const whole = topologyVersion(a);
    const moved = exportClusters(a).find((c) => c.nodes.includes('0'))!;
    applyChange(a, { kind: 'move', id: '0', position: { x: nodes[0].x + 0.5, y: nodes[0].y } });
    expect(exportClusters(a).find((c) => c.id === moved.id)!.version).not.toBe(moved.version);
    expect(topologyVersion(a)).not.toBe(whole);
  });
});
