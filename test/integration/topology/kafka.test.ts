/**
 * The topology on the real broker (started by `wsn-watch services up`):
 * compacted topic, publisher diffs with tombstones, and followers that
 * rebuild the current topology from the topic.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { applyChange, createTopology, exportClusters, loadTopology, type Topology } from '../../../topology/index.ts';
import { createLogger } from '../../../common/log.ts';
import {
  ensureTopologyTopic,
  readTopologyRecords,
  TopologyFollower,
  TopologyPublisher,
} from '../../../topology/kafka.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { cleanupPolicy, createTopicsAndWait } from '../../../transport/kafka-topics.ts';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
const ibrl = resolve(repoRoot, '../shared/data/ibrl/node.txt');
const brokers = loadConfig({ env: process.env }).kafka.brokers;
const TOPIC = 'wsn.topology';

function sameTopology(a: Topology, b: Topology): void {
  expect(exportClusters(b)).toEqual(exportClusters(a));
  expect(new Map(b.clustering.nodeCluster)).toEqual(new Map(a.clustering.nodeCluster));
}

describe('topology on Kafka', () => {
  let kafka: Kafka;
  let transport: KafkaTransport;
  const network = `it-topology-${randomUUID().slice(0, 8)}`;
  const followers: TopologyFollower[] = [];
  const publishers: TopologyPublisher[] = [];

  beforeAll(async () => {
    kafka = new Kafka({ brokers, clientId: 'wsn-watch-topology-it' });
    transport = new KafkaTransport({
      brokers,
      clientId: 'wsn-watch-topology-it',
      logger: createLogger('it', 'silent'),
    });
    const admin = kafka.admin();
    await admin.connect(); // fails here, clearly, when no broker listens: run `wsn-watch services up` first
    await admin.disconnect();
  });

  afterAll(async () => {
    await Promise.all(followers.map((f) => f.stop()));
    await Promise.all(publishers.map((p) => p.disconnect()));
    await transport.close();
  });

  it('creates the topic compacted, and switches an existing non-compacted topic to compact', async () => {
    await ensureTopologyTopic(transport, TOPIC);
    const admin = kafka.admin();
    await admin.connect();
    const scratch = `wsn.topology.it-${randomUUID().slice(0, 8)}`;
    try {
      expect((await cleanupPolicy(admin, TOPIC)).split(',')).toContain('compact');
      await createTopicsAndWait(admin, [
        { topic: scratch, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] },
      ]);
      expect(await cleanupPolicy(admin, scratch)).toBe('delete');
      await ensureTopologyTopic(transport, scratch);
      expect((await cleanupPolicy(admin, scratch)).split(',')).toContain('compact');
    } finally {
      await admin.deleteTopics({ topics: [scratch] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('publishes a topology that a follower rebuilds, then follows joins and leaves', async () => {
    const topology = createTopology(loadTopology(ibrl), { edgeRule: { knn: 4 }, cluster: { maxSize: 12, seed: 1 } });
    const publisher = new TopologyPublisher({ brokers, network });
    publishers.push(publisher);
    await publisher.connect();
    const first = await publisher.publish(topology);
    expect(first.sent).toBe(54 + topology.clustering.clusters.size + 1);
    expect(first.tombstones).toBe(0);

    const follower = new TopologyFollower({ brokers, network });
    followers.push(follower);
    await follower.start();
    const seen = await follower.waitFor((_t, v) => v === first.version, 90_000);
    sameTopology(topology, seen);

    applyChange(topology, {
      kind: 'join',
      node: { id: '55', x: 20, y: 10, modalities: ['temperature', 'voltage'], status: 'active' },
    });
    applyChange(topology, { kind: 'leave', id: '5' });
    applyChange(topology, { kind: 'status', id: '18', status: 'silent' });
    const second = await publisher.publish(topology);
    expect(second.version).not.toBe(first.version);
    expect(second.tombstones).toBe(1);
    // Only what changed is sent: the two nodes, the silent node, the touched clusters' centroids, and meta.
    expect(second.sent).toBeLessThan(15);

    const updated = await follower.waitFor((_t, v) => v === second.version, 90_000);
    expect(updated.network.graph.hasNode('55')).toBe(true);
    expect(updated.network.graph.hasNode('5')).toBe(false);
    expect(updated.network.graph.getNodeAttribute('18', 'status')).toBe('silent');
    sameTopology(topology, updated);
  });

  it('a late follower replays the compacted state; a new publisher sends nothing that is already there', async () => {
    const records = await readTopologyRecords(transport, network, TOPIC);
    expect(records.has(`${network}/node/5`)).toBe(false);
    expect(records.has(`${network}/node/55`)).toBe(true);

    const late = new TopologyFollower({ brokers, network });
    followers.push(late);
    await late.start();
    const meta = JSON.parse(records.get(`${network}/meta`)!) as { version: string };
    const replayed = await late.waitFor((_t, v) => v === meta.version, 90_000);
    expect(replayed.network.graph.order).toBe(54);

    const again = new TopologyPublisher({ brokers, network });
    publishers.push(again);
    await again.connect();
    const result = await again.publish(replayed);
    expect(result).toMatchObject({ sent: 1, tombstones: 0, version: meta.version });
  });

  it('retracting a network leaves nothing of it on the topic', async () => {
    const before = await readTopologyRecords(transport, network, TOPIC);
    expect(before.size).toBeGreaterThan(54);
    const publisher = publishers[publishers.length - 1];
    expect(await publisher.retract()).toBe(before.size);
    expect((await readTopologyRecords(transport, network, TOPIC)).size).toBe(0);
  });
});
