import { describe, expect, it } from 'vitest';
import { createTopology, parseTopologyText } from '../../../topology/index.ts';
import { topologyView } from '../../../topology/view.ts';
import { nodePositionPoints } from '../../../store/node-positions.ts';

describe('topologyView', () => {
  it('places every node of the topology in its cluster, with the radio links', () => {
    const text = ['1 0 0', '2 1 0', '3 0 1', '4 10 10', '5 11 10', '6 10 11'].join('\n');
    const loaded = parseTopologyText(text, 'plan.txt');
    const topology = createTopology(loaded, { edgeRule: { knn: 2 }, cluster: { maxSize: 3 } });
    const view = topologyView('lab', topology);
    expect(view.nodes.map((n) => n.node).sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    const clusterOf = new Map(view.nodes.map((n) => [n.node, n.cluster]));
    // The two far-apart triangles end up in different clusters.
    expect(clusterOf.get('1')).toBe(clusterOf.get('2'));
    expect(clusterOf.get('4')).toBe(clusterOf.get('6'));
    expect(clusterOf.get('1')).not.toBe(clusterOf.get('4'));
    expect(view.nodes.find((n) => n.node === '5')).toMatchObject({ x: 11, y: 10 });
    expect(view.edges.length).toBe(topology.network.graph.size);

    const points = nodePositionPoints(view, 1_000);
    expect(points).toHaveLength(6);
    expect(points.find((p) => p.tags?.node === '5')).toEqual({
      measurement: 'node_position',
      tags: { network: 'lab', node: '5', cluster: clusterOf.get('5') },
      fields: { x: 11, y: 10 },
      timestamp: 1_000,
    });
  });
});
