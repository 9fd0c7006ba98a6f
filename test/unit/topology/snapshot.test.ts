import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../common/errors.ts';
import {
  applyChange,
  createTopology,
  exportClusters,
  parseTopologyText,
  topologyVersion,
} from '../../../topology/index.ts';
import { fromSnapshot, loadSnapshot, saveSnapshot, toSnapshot } from '../../../topology/snapshot.ts';
import { randomNodes } from './fixtures.ts';

describe('snapshots', () => {
  it('round-trips: same clusters, ids, exports and version after save and load', () => {
    const t = createTopology(randomNodes(500, 41, 200, true), {
      edgeRule: { knn: 3, range: 30, weight: 'inverse' },
      cluster: { maxSize: 20, seed: 5, partitions: 6 },
    });
    // A history of changes makes the clusters differ from a fresh clustering: the snapshot must keep them.
    applyChange(t, {
      kind: 'join',
      node: { id: 'late', x: 10, y: 10, z: 1, modalities: ['humidity'], status: 'active' },
    });
    applyChange(t, { kind: 'status', id: '3', status: 'silent' });
    applyChange(t, { kind: 'leave', id: '4' });
    const dir = mkdtempSync(join(tmpdir(), 'wsn-topology-'));
    const file = join(dir, 'nested', 'topology.json');
    saveSnapshot(t, file);
    const back = loadSnapshot(file);
    expect(back.network.rule).toEqual(t.network.rule);
    expect(back.clustering.options).toEqual(t.clustering.options);
    expect(new Map(back.clustering.nodeCluster)).toEqual(new Map(t.clustering.nodeCluster));
    expect(exportClusters(back)).toEqual(exportClusters(t));
    expect(topologyVersion(back)).toBe(topologyVersion(t));
    expect(toSnapshot(back)).toEqual(toSnapshot(t));
  });

  it('keeps excluded nodes and their reasons', () => {
    const loaded = parseTopologyText('1 0 0\n2 1 0\n3 0 1\n4 1 1\n5 2 2\n6 2 0\n7 0 2\n8 1 2\n9 500 1\n', 'lab.txt');
    const t = createTopology(loaded);
    const back = fromSnapshot(JSON.parse(JSON.stringify(toSnapshot(t))));
    expect(back.network.excluded.map((e) => [e.node.id, e.source?.line])).toEqual([['9', 9]]);
  });

  it('rejects files that are not snapshots or are inconsistent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsn-topology-'));
    const file = join(dir, 'x.json');
    writeFileSync(file, '{"kind":"something else"}');
    expect(() => loadSnapshot(file)).toThrow(UserError);
    const snapshot = toSnapshot(createTopology(randomNodes(30, 42), { cluster: { maxSize: 10 } }));
    snapshot.clusters[0].members.push('ghost');
    expect(() => fromSnapshot(snapshot)).toThrow(/unknown node "ghost"/);
    const missing = toSnapshot(createTopology(randomNodes(30, 42), { cluster: { maxSize: 10 } }));
    missing.clusters[0].members.pop();
    expect(() => fromSnapshot(missing)).toThrow(/belongs to no cluster/);
  });
});
