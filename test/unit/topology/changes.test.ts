import { describe, expect, it } from 'vitest';
import {
  applyChange,
  buildNetwork,
  createTopology,
  exportClusters,
  networkNodes,
  type Topology,
} from '../../../topology/index.ts';
import { toEdgeRule } from '../../../topology/edge-rules.ts';
import { randomNodes, sensorNode } from './fixtures.ts';

function membership(t: Topology): Map<string, string> {
  return new Map(t.clustering.nodeCluster);
}

function versions(t: Topology): Map<string, string> {
  return new Map(exportClusters(t, { denseLimit: 0 }).map((c) => [c.id, c.version]));
}

describe('run-time changes', () => {
  it('adding a node to a 1,000-node network moves no other node (no overflow)', () => {
    const t = createTopology(randomNodes(1000, 21), { cluster: { maxSize: 64, seed: 1 } });
    const before = membership(t);
    const versionsBefore = versions(t);
    // Place the new node next to a node whose cluster has room.
    const roomy = [...t.clustering.clusters.values()].find((c) => c.members.size < 64)!;
    const anchor = t.network.graph.getNodeAttributes([...roomy.members][0]);
    const result = applyChange(t, { kind: 'join', node: sensorNode('new', anchor.x + 0.01, anchor.y) });
    expect(result.moved).toEqual([]);
    expect(result.createdClusters).toEqual([]);
    for (const [node, cluster] of before) expect(t.clustering.nodeCluster.get(node)).toBe(cluster);
    expect(t.clustering.clusters.size).toBe(versionsBefore.size);
    expect(t.clustering.nodeCluster.has('new')).toBe(true);
    // Clusters the change did not touch keep their exported version.
    const after = versions(t);
    for (const [id, v] of versionsBefore) if (!result.touchedClusters.includes(id)) expect(after.get(id)).toBe(v);
    expect(result.touchedClusters.length).toBeLessThan(10);
  });

  it('on overflow, splits only the full cluster: its largest part keeps the id, only the rest move', () => {
    const t = createTopology(randomNodes(1000, 22), { cluster: { maxSize: 64, seed: 1 } });
    const full = [...t.clustering.clusters.values()].find((c) => c.members.size === 64) ?? null;
    let target = full;
    if (!target) {
      // Fill the largest cluster up to the limit first, with nodes at its centroid.
      target = [...t.clustering.clusters.values()].sort((a, b) => b.members.size - a.members.size)[0];
      for (let i = 0; target.members.size < 64; i++) {
        applyChange(t, { kind: 'join', node: sensorNode(`fill${i}`, target.centroid.x, target.centroid.y) });
      }
    }
    const before = membership(t);
    const oldMembers = new Set(target.members);
    const result = applyChange(t, { kind: 'join', node: sensorNode('overflow', target.centroid.x, target.centroid.y) });
    expect(result.createdClusters.length).toBeGreaterThanOrEqual(1);
    expect(result.moved.length).toBeGreaterThan(0);
    for (const m of result.moved) expect(oldMembers.has(m)).toBe(true);
    for (const [node, cluster] of before) {
      if (!oldMembers.has(node)) expect(t.clustering.nodeCluster.get(node)).toBe(cluster);
    }
    expect(t.clustering.clusters.get(target.id)!.members.size).toBeGreaterThanOrEqual(
      Math.ceil(65 / (result.createdClusters.length + 1)),
    );
    for (const c of t.clustering.clusters.values()) expect(c.members.size).toBeLessThanOrEqual(64);
    expect(result.moved.length).toBeLessThan(65 - t.clustering.clusters.get(target.id)!.members.size + 1);
  });

  it('a node leaving moves nobody; an emptied cluster disappears', () => {
    const t = createTopology(randomNodes(200, 23), { cluster: { maxSize: 8, seed: 1 } });
    const before = membership(t);
    const smallest = [...t.clustering.clusters.values()].sort((a, b) => a.members.size - b.members.size)[0];
    const members = [...smallest.members];
    for (const m of members) {
      const r = applyChange(t, { kind: 'leave', id: m });
      expect(r.moved).toEqual([]);
    }
    expect(t.clustering.clusters.has(smallest.id)).toBe(false);
    expect(t.network.graph.order).toBe(200 - members.length);
    for (const [node, cluster] of before)
      if (!members.includes(node)) expect(t.clustering.nodeCluster.get(node)).toBe(cluster);
  });

  it('going silent moves nobody and keeps every version (status is not part of it)', () => {
    const t = createTopology(randomNodes(100, 24), { cluster: { maxSize: 16 } });
    const v = versions(t);
    const r = applyChange(t, { kind: 'status', id: '5', status: 'silent' });
    expect(r.moved).toEqual([]);
    expect(versions(t)).toEqual(v);
    const exported = exportClusters(t).find((c) => c.nodes.includes('5'))!;
    expect(exported.statuses[exported.nodes.indexOf('5')]).toBe('silent');
  });

  it('a moved node changes cluster only when another centroid is nearer', () => {
    const t = createTopology(randomNodes(300, 25), { cluster: { maxSize: 32 } });
    const from = t.clustering.nodeCluster.get('7')!;
    const other = [...t.clustering.clusters.values()].find((c) => c.id !== from && c.members.size < 32)!;
    const small = applyChange(t, {
      kind: 'move',
      id: '7',
      position: { x: t.network.graph.getNodeAttribute('7', 'x') + 1e-6, y: t.network.graph.getNodeAttribute('7', 'y') },
    });
    expect(small.moved).toEqual([]);
    const far = applyChange(t, { kind: 'move', id: '7', position: { ...other.centroid } });
    expect(far.moved).toEqual(['7']);
    expect(t.clustering.nodeCluster.get('7')).toBe(other.id);
    expect(t.network.graph.getNodeAttribute('7', 'x')).toBe(other.centroid.x);
  });

  it('after a series of changes the edges equal a fresh build with the same rule, and touched clusters cover every changed one', () => {
    const t = createTopology(randomNodes(400, 27), { edgeRule: { knn: 3 }, cluster: { maxSize: 16 } });
    const edgeSet = (top: Topology['network']['graph']): Map<string, number> =>
      new Map(top.mapEdges((_e, a, s, u) => [[s, u].sort().join('|'), a.weight] as [string, number]));
    const changes = [
      { kind: 'join', node: sensorNode('j1', 55, 60) },
      { kind: 'leave', id: '17' },
      { kind: 'move', id: '30', position: { x: 5, y: 190 } },
      { kind: 'join', node: sensorNode('j2', 0, 0) },
      { kind: 'leave', id: '200' },
    ] as const;
    for (const change of changes) {
      const before = versions(t);
      const result = applyChange(t, change);
      const after = versions(t);
      for (const [id, v] of after) if (before.get(id) !== v) expect(result.touchedClusters).toContain(id);
    }
    const fresh = buildNetwork(networkNodes(t.network), toEdgeRule(t.network.rule));
    expect(edgeSet(t.network.graph)).toEqual(edgeSet(fresh.graph));
    expect(t.network.ruleComponents).toBe(fresh.ruleComponents);
  });

  it('rejects unknown and duplicate nodes', () => {
    const t = createTopology(randomNodes(20, 26));
    expect(() => applyChange(t, { kind: 'leave', id: 'nope' })).toThrow(/not in the network/);
    expect(() => applyChange(t, { kind: 'join', node: sensorNode('3', 0, 0) })).toThrow(/already in the network/);
  });
});
