import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  buildNetwork,
  clusterNetwork,
  partitionForCluster,
  type Clustering,
  type SensorNode,
} from '../../../topology/index.ts';
import { randomNodes, shuffled } from './fixtures.ts';

function assignment(c: Clustering): Record<string, string[]> {
  return Object.fromEntries([...c.clusters.values()].map((cl) => [cl.id, [...cl.members].sort()]));
}

describe('clusterNetwork', () => {
  const nodes = randomNodes(1000, 9);
  const network = buildNetwork(nodes, { knn: 4 });

  it('puts every node in exactly one cluster of at most maxSize nodes', () => {
    for (const maxSize of [64, 10, 1]) {
      const c = clusterNetwork(network, { maxSize, seed: 1 });
      const seen = new Map<string, string>();
      for (const cluster of c.clusters.values()) {
        expect(cluster.members.size).toBeGreaterThan(0);
        expect(cluster.members.size).toBeLessThanOrEqual(maxSize);
        for (const m of cluster.members) {
          expect(seen.has(m)).toBe(false);
          seen.set(m, cluster.id);
          expect(c.nodeCluster.get(m)).toBe(cluster.id);
        }
      }
      expect(seen.size).toBe(1000);
      expect(c.clusters.size).toBeGreaterThanOrEqual(Math.ceil(1000 / maxSize));
    }
  });

  it('is deterministic for a seed, whatever the input order', () => {
    const a = clusterNetwork(network, { seed: 4 });
    const b = clusterNetwork(buildNetwork(shuffled(nodes, 3), { knn: 4 }), { seed: 4 });
    expect(assignment(b)).toEqual(assignment(a));
  });

  it('names clusters after their first member, so ids do not depend on cluster order', () => {
    const c = clusterNetwork(network, { seed: 2 });
    for (const cluster of c.clusters.values()) {
      const first = [...cluster.members].sort((x, y) => Number(x) - Number(y))[0];
      expect(cluster.id).toBe(`c-${first}`);
    }
  });

  it('with Louvain, still bounds cluster sizes, covers every node and is deterministic', () => {
    const c = clusterNetwork(network, { louvain: true, maxSize: 40, seed: 3 });
    expect(Math.max(...[...c.clusters.values()].map((cl) => cl.members.size))).toBeLessThanOrEqual(40);
    expect([...c.clusters.values()].reduce((s, cl) => s + cl.members.size, 0)).toBe(1000);
    expect(assignment(clusterNetwork(network, { louvain: true, maxSize: 40, seed: 3 }))).toEqual(assignment(c));
  });

  it('splits nodes at one position (k-means cannot separate them) into bounded chunks', () => {
    const same: SensorNode[] = Array.from({ length: 150 }, (_, i) => ({
      id: `n${i}`,
      x: 1,
      y: 1,
      modalities: ['light'],
      status: 'active',
    }));
    const c = clusterNetwork(buildNetwork(same, { knn: 2 }), { maxSize: 64 });
    expect([...c.clusters.values()].map((cl) => cl.members.size).sort((a, b) => a - b)).toEqual([50, 50, 50]);
  });

  it('rejects a non-positive maximum size', () => {
    expect(() => clusterNetwork(network, { maxSize: 0 })).toThrow(/positive integer/);
  });
});

describe('partitionForCluster', () => {
  it('equals the partition kafkajs chooses for the cluster id as message key', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 12, 64]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({
        partitionId: p,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (const id of ['c-1', 'c-14', 'c-4', 'c-99999', 'c-größe', 'c-a~2']) {
        expect(partitionForCluster(id, partitions)).toBe(
          partitioner({ topic: 'wsn.frames', partitionMetadata, message: { key: id, value: 'x' } }),
        );
      }
    }
  });

  it('is within range and rejects a bad partition count', () => {
    for (let i = 0; i < 200; i++) {
      const p = partitionForCluster(`c-${i}`, 7);
      expect(p >= 0 && p < 7).toBe(true);
    }
    expect(() => partitionForCluster('c-1', 0)).toThrow(RangeError);
  });
});
