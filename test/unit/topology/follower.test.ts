/**
 * The topology publisher and follower on the in-process transport: the same
 * code as on Kafka (a keyed table to publish, a subscription to follow), so
 * versions, tombstones, half-published changes and health are checked here
 * without a broker. The broker outage itself is in
 * test/integration/faults/follower-outage.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.ts';
import type { Subscription, SubscriptionHealth, Transport } from '../../../common/transport.ts';
import { applyChange, createTopology, exportClusters, type Topology } from '../../../topology/index.ts';
import { readTopologyRecords, TopologyFollower, TopologyPublisher, topologyRecords } from '../../../topology/kafka.ts';
import { MemoryTransport } from '../../../transport/memory.ts';
import { waitFor } from '../../support/wait.ts';
import { randomNodes } from './fixtures.ts';

const logger = createLogger('t', 'silent');
const TOPIC = 'wsn.topology';

describe('topology publisher and follower on the in-process transport', () => {
  let transport: MemoryTransport;
  afterEach(async () => {
    await transport.close();
  });

  it('applies versions in order, with tombstones; a late follower replays the current state; a retract leaves nothing', async () => {
    transport = new MemoryTransport({ logger, maxBatchSize: 7 });
    const topology = createTopology(randomNodes(40, 9), { cluster: { maxSize: 10 } });
    const publisher = new TopologyPublisher({ transport, network: 'lab', logger });
    await publisher.connect();
    const applied: string[] = [];
    const follower = new TopologyFollower({ transport, network: 'lab', logger });
    await follower.start((_t, version) => void applied.push(version));
    expect(follower.health()).toEqual({ following: true, reason: null, restarts: 0 });

    const first = await publisher.publish(topology);
    expect(first.sent).toBe(40 + topology.clustering.clusters.size + 1);
    const seen = await follower.waitFor((_t, v) => v === first.version, 5_000);
    expect(exportClusters(seen)).toEqual(exportClusters(topology));

    applyChange(topology, { kind: 'leave', id: '5' });
    const second = await publisher.publish(topology);
    expect(second.tombstones).toBe(1);
    expect(second.sent).toBeLessThan(15);
    const updated = await follower.waitFor((_t, v) => v === second.version, 5_000);
    expect(updated.network.graph.hasNode('5')).toBe(false);
    expect(exportClusters(updated)).toEqual(exportClusters(topology));
    expect(applied).toEqual([first.version, second.version]);

    const late = new TopologyFollower({ transport, network: 'lab', logger });
    await late.start();
    const replayed = await late.waitFor(() => true, 5_000);
    expect(late.currentVersion()).toBe(second.version);
    expect(replayed.network.graph.order).toBe(39);

    const records = await readTopologyRecords(transport, 'lab');
    expect(records.has('lab/node/5')).toBe(false);
    expect(await publisher.retract()).toBe(records.size);
    expect((await readTopologyRecords(transport, 'lab')).size).toBe(0);
    // The follower keeps the last complete version: a network without records is not a topology.
    expect(follower.currentVersion()).toBe(second.version);

    await publisher.disconnect();
    await late.stop();
    await follower.stop();
    expect(follower.health()).toMatchObject({ following: false, reason: 'stopped' });
  });

  it('with keepTopology false, hands every version and its cluster exports to its listener and keeps only the version', async () => {
    transport = new MemoryTransport({ logger });
    const topology = createTopology(randomNodes(30, 4), { cluster: { maxSize: 10 } });
    const publisher = new TopologyPublisher({ transport, network: 'lab', logger });
    await publisher.connect();
    const handed: Array<{ version: string; order: number }> = [];
    const exportsHanded: unknown[] = [];
    const follower = new TopologyFollower({ transport, network: 'lab', logger, keepTopology: false });
    await follower.start((t, version, clusters) => {
      handed.push({ version, order: t.network.graph.order });
      exportsHanded.push(clusters);
    });

    const first = await publisher.publish(topology);
    await waitFor('the first version', () => follower.currentVersion() === first.version, 5_000);
    applyChange(topology, { kind: 'leave', id: '3' });
    const second = await publisher.publish(topology);
    await waitFor('the second version', () => follower.currentVersion() === second.version, 5_000);

    expect(handed).toEqual([
      { version: first.version, order: 30 },
      { version: second.version, order: 29 },
    ]);
    // The exports the version check computed: what exportClusters gives on the topology as it now is.
    expect(exportsHanded[1]).toEqual(exportClusters(topology, { denseLimit: 0 }));
    expect(follower.current()).toBeNull();
    await publisher.disconnect();
    await follower.stop();
  });

  it('ignores other networks, malformed records and a change without its meta record; survives a failing listener', async () => {
    transport = new MemoryTransport({ logger });
    const topology = createTopology(randomNodes(30, 4), { cluster: { maxSize: 10 } });
    const other = new TopologyPublisher({ transport, network: 'lab2', logger });
    await other.connect();
    await other.publish(createTopology(randomNodes(12, 1), { cluster: { maxSize: 10 } }));
    let calls = 0;
    const follower = new TopologyFollower({ transport, network: 'lab', logger });
    await follower.start(() => {
      calls++;
      throw new Error('listener broke');
    });

    // Half of a change: node and cluster records, no meta. Then junk under the network's prefix.
    const table = transport.table({ topic: TOPIC, partitions: 1 });
    await table.put([...topologyRecords('lab', topology)].map(([key, value]) => ({ key, value })));
    await table.put([{ key: 'lab/node/junk', value: 'not json' }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(follower.current()).toBeNull();

    // The junk key stays until it is replaced; a tombstone removes it, and the publisher completes the change.
    await table.put([{ key: 'lab/node/junk', value: null }]);
    const publisher = new TopologyPublisher({ transport, network: 'lab', logger });
    await publisher.connect();
    const result = await publisher.publish(topology);
    expect(result.sent).toBe(1); // only meta: the records are already there
    await follower.waitFor((_t, v) => v === result.version, 5_000);
    expect(calls).toBe(1);

    applyChange(topology, { kind: 'leave', id: '3' });
    const next = await publisher.publish(topology);
    expect(next.version).not.toBe(result.version);
    const changed: Topology = await follower.waitFor((_t, v) => v === next.version, 5_000);
    expect(changed.network.graph.hasNode('3')).toBe(false);
    expect(calls).toBe(2);
    await table.close();
    await publisher.disconnect();
    await other.disconnect();
    await follower.stop();
  });

  it('is not following while its subscription reports a problem, and says which', async () => {
    transport = new MemoryTransport({ logger });
    let health: SubscriptionHealth = { problem: null, restarts: 0 };
    // The in-process transport never fails; a wrapper reports what a Kafka subscription reports during an outage.
    const reporting: Transport = Object.assign(Object.create(transport) as Transport, {
      subscribe: async (...args: Parameters<Transport['subscribe']>): Promise<Subscription> => {
        const inner = await transport.subscribe(...args);
        return { close: () => inner.close(), health: () => health };
      },
    });
    const follower = new TopologyFollower({ transport: reporting, network: 'lab', logger });
    expect(follower.health()).toMatchObject({ following: false, reason: 'not started' });
    await follower.start();
    expect(follower.health().following).toBe(true);
    health = {
      problem: 'crashed (KafkaJSNonRetriableError: Failed to find group coordinator); rebuilding it',
      restarts: 0,
    };
    expect(follower.health()).toEqual({ following: false, reason: health.problem, restarts: 0 });
    health = { problem: null, restarts: 1 };
    await waitFor('following again', () => follower.health().following, 1_000);
    expect(follower.health().restarts).toBe(1);
    await follower.stop();
    expect(follower.health()).toEqual({ following: false, reason: 'stopped', restarts: 1 });
  });
});
