/**
 * A topology too large for one produce request (20,000 nodes: about 2.3 MB of
 * records; one request failed with MESSAGE_TOO_LARGE at 10,000) is published
 * in several requests on the real broker, followed, and changed by a delta.
 * Runs on its own topic, so other work on the shared broker is not disturbed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka } from 'kafkajs';
import { loadConfig } from '../../../common/config.ts';
import { applyChange, createTopology, exportClusters, randomNodes } from '../../../topology/index.ts';
import { createLogger } from '../../../common/log.ts';
import { readTopologyRecords, TopologyFollower, TopologyPublisher } from '../../../topology/kafka.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';

const brokers = loadConfig({ env: process.env }).kafka.brokers;
const NODES = 20_000;

describe(`topology of ${NODES.toLocaleString('en-US')} nodes on Kafka`, () => {
  let kafka: Kafka;
  const topic = `wsn.topology.it-scale-${randomUUID().slice(0, 8)}`;
  const network = 'scale';
  let publisher: TopologyPublisher | undefined;
  let follower: TopologyFollower | undefined;

  beforeAll(async () => {
    kafka = new Kafka({ brokers, clientId: 'wsn-watch-topology-scale-it' });
    const admin = kafka.admin();
    await admin.connect(); // fails here, clearly, when no broker listens: run `wsn-watch services up` first
    await admin.disconnect();
  });

  afterAll(async () => {
    await follower?.stop();
    await publisher?.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('publishes in several requests, a follower rebuilds it, and a change goes out as a small delta', async () => {
    const topology = createTopology(randomNodes(NODES, 17), {
      edgeRule: { knn: 4 },
      cluster: { maxSize: 64, seed: 1 },
    });
    const progress: number[] = [];
    publisher = new TopologyPublisher({ brokers, network, topic, onProgress: (sent) => progress.push(sent) });
    await publisher.connect();
    const first = await publisher.publish(topology);
    expect(first.sent).toBe(NODES + topology.clustering.clusters.size + 1);
    expect(progress.length).toBeGreaterThan(3); // several produce requests
    expect(progress[progress.length - 1]).toBe(first.sent);

    follower = new TopologyFollower({ brokers, network, topic });
    await follower.start();
    const seen = await follower.waitFor((_t, v) => v === first.version, 120_000);
    expect(seen.network.graph.order).toBe(NODES);
    expect(exportClusters(seen)).toEqual(exportClusters(topology));

    applyChange(topology, {
      kind: 'join',
      node: { id: 'new-1', x: 5, y: 5, modalities: ['temperature'], status: 'active' },
    });
    applyChange(topology, { kind: 'leave', id: '7' });
    const second = await publisher.publish(topology);
    expect(second.version).not.toBe(first.version);
    expect(second.tombstones).toBe(1);
    expect(second.sent).toBeLessThan(20);
    const updated = await follower.waitFor((_t, v) => v === second.version, 120_000);
    expect(updated.network.graph.hasNode('new-1')).toBe(true);
    expect(updated.network.graph.hasNode('7')).toBe(false);
    expect(exportClusters(updated)).toEqual(exportClusters(topology));

    // What is on the topic is the current topology, whole.
    const transport = new KafkaTransport({
      brokers,
      clientId: 'wsn-watch-topology-scale-it',
      logger: createLogger('it', 'silent'),
    });
    try {
      const records = await readTopologyRecords(transport, network, topic);
      expect(records.size).toBe(NODES + topology.clustering.clusters.size + 1);
    } finally {
      await transport.close();
    }
  });
});
