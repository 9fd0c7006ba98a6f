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

  it('keeps where nodes were per version, sharing what did not move', () => {
    const topology = createTopology([sensorNode('1', 0, 0), sensorNode('2', 1, 0), sensorNode('3', 2, 0)]);
    const adjacency = new TopologyAdjacency();
    adjacency.update(topology, 'v1');
    applyChange(topology, { kind: 'move', id: '2', position: { x: 1.5, y: 0 } });
    adjacency.update(topology, 'v2');

    const before = adjacency.placements('v1')!;
    const after = adjacency.placements('v2')!;
    expect(before.get('2')!.position).toBe('1,0,0');
    expect(after.get('2')!.position).toBe('1.5,0,0');
    expect(after.get('1')).toBe(before.get('1'));
    expect(after.get('3')).toBe(before.get('3'));
    expect(adjacency.previousVersion('v2')).toBe('v1');
  });
});
