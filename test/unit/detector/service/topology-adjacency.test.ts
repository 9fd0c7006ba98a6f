import { describe, expect, it } from 'vitest';
import { applyChange, createTopology, exportClusters } from '../../../../topology/index.ts';
import { TopologyAdjacency } from '../../../../detector/service/topology.ts';
import { sensorNode } from '../../topology/fixtures.ts';

describe('TopologyAdjacency', () => {
  it("gives the live edges of a cluster in the frame's node order, and follows joins without a restart", () => {
    const topology = createTopology(
      [sensorNode('1', 0, 0), sensorNode('2', 1, 0), sensorNode('3', 2, 0), sensorNode('4', 30, 30)],
      {
        edgeRule: { knn: 1 },
      },
    );
    const adjacency = new TopologyAdjacency();
    adjacency.update(topology, 'v1');
    const [cluster] = exportClusters(topology).filter((c) => c.nodes.includes('1'));
    const order = ['3', '1', '2'].filter((id) => cluster.nodes.includes(id));
    const matrix = adjacency.provider('lab', cluster.id, order)!;
    expect(matrix).toHaveLength(order.length);
    // symmetric, no self-loops, an edge between the neighbours 1 and 2
    for (let i = 0; i < order.length; i++) {
      expect(matrix[i][i]).toBe(0);
      for (let j = 0; j < order.length; j++) expect(matrix[i][j]).toBe(matrix[j][i]);
    }
    expect(matrix[order.indexOf('1')][order.indexOf('2')]).toBeGreaterThan(0);
    expect(adjacency.provider('lab', 'no-such-cluster', ['1'])).toBeUndefined();

    applyChange(topology, { kind: 'join', node: sensorNode('5', 0.5, 0.1) });
    adjacency.update(topology, 'v2');
    const withNew = exportClusters(topology).find((c) => c.nodes.includes('5'))!;
    const nodes = withNew.nodes;
    const next = adjacency.provider('lab', withNew.id, nodes)!;
    const five = nodes.indexOf('5');
    expect(next[five].some((w) => w > 0)).toBe(true);
    expect(adjacency.version).toBe('v2');
  });
});
