import { describe, expect, it } from 'vitest';
import { createTopology, exportClusters, topologyVersion } from '../../../topology/index.ts';
import { parseTopologyRecord, topologyFromRecords, topologyRecords } from '../../../topology/kafka.ts';
import { randomNodes } from './fixtures.ts';

/** The records the publisher would write, meta included (as the topic holds them after compaction). */
function recordsOf(network: string, seed: number): Map<string, string> {
  const t = createTopology(randomNodes(80, seed), { cluster: { maxSize: 16 } });
  const records = topologyRecords(network, t);
  records.set(
    `${network}/meta`,
    JSON.stringify({ kind: 'meta', rule: t.network.rule, clusterOptions: t.clustering.options, version: topologyVersion(t), nodes: 80, clusters: t.clustering.clusters.size, updatedAt: '2026-01-01T00:00:00Z' }),
  );
  return records;
}

describe('topology records (the wsn.topology wire format)', () => {
  it('rebuild the same topology, and only when they are complete', () => {
    const t = createTopology(randomNodes(80, 1), { cluster: { maxSize: 16 } });
    const records = recordsOf('lab', 1);
    const rebuilt = topologyFromRecords('lab', records);
    expect(rebuilt).not.toBeNull();
    expect(exportClusters(rebuilt!)).toEqual(exportClusters(t));
    // Half a change: one node record missing → not announced.
    const partial = new Map(records);
    partial.delete('lab/node/3');
    expect(topologyFromRecords('lab', partial)).toBeNull();
    // A node record from a newer change without its meta: counts match but the version does not.
    const moved = new Map(records);
    const node = JSON.parse(moved.get('lab/node/3')!) as { node: { x: number } };
    node.node.x += 1;
    moved.set('lab/node/3', JSON.stringify(node));
    expect(topologyFromRecords('lab', moved)).toBeNull();
  });

  it('ignore other networks sharing the topic', () => {
    const records = new Map([...recordsOf('lab', 2), ...recordsOf('lab2', 3)]);
    expect(topologyFromRecords('lab', records)!.network.graph.order).toBe(80);
    expect(exportClusters(topologyFromRecords('lab2', records)!)).toEqual(exportClusters(topologyFromRecords('lab2', recordsOf('lab2', 3))!));
  });

  it('treat malformed values as absent instead of failing', () => {
    expect(parseTopologyRecord('k', 'not json')).toBeNull();
    expect(parseTopologyRecord('k', '{"kind":"node","node":{"id":"1"}}')).toBeNull();
    expect(parseTopologyRecord('k', '{"kind":"cluster","id":"c-1","centroid":{"x":1,"y":2},"partition":3}')).toEqual({ kind: 'cluster', id: 'c-1', centroid: { x: 1, y: 2 }, partition: 3 });
    const records = recordsOf('lab', 4);
    records.set('lab/meta', '{broken');
    expect(topologyFromRecords('lab', records)).toBeNull();
    const junk = recordsOf('lab', 4);
    junk.set('lab/node/zzz', '[]');
    expect(topologyFromRecords('lab', junk)).not.toBeNull();
  });
});
