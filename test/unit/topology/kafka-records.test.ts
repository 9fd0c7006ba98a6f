import { describe, expect, it } from 'vitest';
import { createTopology, exportClusters, topologyVersion } from '../../../topology/index.ts';
import {
  parseTopologyRecord,
  topologyDelta,
  topologyFromRecords,
  topologyRecords,
  type MetaRecord,
} from '../../../topology/kafka.ts';
import { chunkBySize, messageBytes } from '../../../transport/chunk.ts';
import { randomNodes } from './fixtures.ts';

/** The records the publisher would write, meta included (as the topic holds them after compaction). */
function recordsOf(network: string, seed: number, nodes = 80): Map<string, string> {
  const t = createTopology(randomNodes(nodes, seed), { cluster: { maxSize: 16 } });
  const records = topologyRecords(network, t);
  records.set(
    `${network}/meta`,
    JSON.stringify({
      kind: 'meta',
      rule: t.network.rule,
      clusterOptions: t.clustering.options,
      version: topologyVersion(t),
      nodes,
      clusters: t.clustering.clusters.size,
      updatedAt: '2026-01-01T00:00:00Z',
    }),
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
    expect(exportClusters(topologyFromRecords('lab2', records)!)).toEqual(
      exportClusters(topologyFromRecords('lab2', recordsOf('lab2', 3))!),
    );
  });

  it('treat malformed values as absent instead of failing', () => {
    expect(parseTopologyRecord('k', 'not json')).toBeNull();
    expect(parseTopologyRecord('k', '{"kind":"node","node":{"id":"1"}}')).toBeNull();
    expect(parseTopologyRecord('k', '{"kind":"cluster","id":"c-1","centroid":{"x":1,"y":2},"partition":3}')).toEqual({
      kind: 'cluster',
      id: 'c-1',
      centroid: { x: 1, y: 2 },
      partition: 3,
    });
    const records = recordsOf('lab', 4);
    records.set('lab/meta', '{broken');
    expect(topologyFromRecords('lab', records)).toBeNull();
    const junk = recordsOf('lab', 4);
    junk.set('lab/node/zzz', '[]');
    expect(topologyFromRecords('lab', junk)).not.toBeNull();
  });
});

describe('chunked publishing (a large change in several produce requests)', () => {
  it('splits records in order into requests under the byte limit, a record larger than the limit going alone', () => {
    const records = Array.from({ length: 500 }, (_, i) => ({
      key: `lab/node/${i}`,
      value: i === 250 ? 'x'.repeat(5_000) : i % 7 === 0 ? null : `{"n":${i}}`,
    }));
    const chunks = chunkBySize(records, messageBytes, 2_000);
    expect(chunks.flat()).toEqual(records);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      const bytes = chunk.reduce((n, r) => n + messageBytes(r), 0);
      if (chunk.length > 1) expect(bytes).toBeLessThanOrEqual(2_000);
    }
    expect(chunks.find((c) => c.some((r) => r.value?.length === 5_000))).toHaveLength(1);
  });

  it('records of a change applied request by request give no topology until its last request (meta), then exactly the new one (a follower keeps the old version meanwhile)', () => {
    const before = recordsOf('big', 5, 600);
    const after = recordsOf('big', 6, 600); // same node ids, other positions and clusters: a change of every record
    const t2 = createTopology(randomNodes(600, 6), { cluster: { maxSize: 16 } });
    const withoutMeta = (records: Map<string, string>): Map<string, string> =>
      new Map([...records].filter(([key]) => key !== 'big/meta'));
    const meta = JSON.parse(after.get('big/meta')!) as MetaRecord;
    const { entries: messages, tombstones } = topologyDelta('big', withoutMeta(before), withoutMeta(after), meta);
    expect(tombstones).toBe(messages.filter((m) => m.value === null).length);
    expect(messages[messages.length - 1]).toEqual({ key: 'big/meta', value: JSON.stringify(meta) });
    const chunks = chunkBySize(messages, messageBytes, 4_096);
    expect(chunks.length).toBeGreaterThan(10);
    const seen = new Map(before);
    expect(topologyFromRecords('big', seen)).not.toBeNull();
    for (const [i, chunk] of chunks.entries()) {
      for (const r of chunk) {
        if (r.value === null) seen.delete(r.key);
        else seen.set(r.key, r.value);
      }
      const rebuilt = topologyFromRecords('big', seen);
      if (i < chunks.length - 1) expect(rebuilt, `after request ${i + 1} of ${chunks.length}`).toBeNull();
      else expect(exportClusters(rebuilt!)).toEqual(exportClusters(t2));
    }
  });
});
