/**
 * The follower's own restart path, driven through a stand-in for the kafkajs
 * client: a consumer that kafkajs will not restart (a non-retriable crash such
 * as "Failed to find group coordinator" after a broker outage) is replaced by
 * a new one, again and again while connecting fails, and the new one applies
 * the versions that arrive. The real broker outage is in
 * test/integration/topology/follower-outage.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createLogger } from '../../../common/log.ts';
import { createTopology, exportClusters, topologyVersion } from '../../../topology/index.ts';
import { TopologyFollower, topologyRecords } from '../../../topology/kafka.ts';
import { randomNodes } from './fixtures.ts';

type Handler = (event: { payload: Record<string, unknown> }) => void;
type EachBatch = (payload: {
  batch: { messages: Array<{ key: Buffer | null; value: Buffer | null; offset: string }> };
  resolveOffset: (o: string) => void;
  heartbeat: () => Promise<void>;
}) => Promise<void>;

class StandInConsumer {
  readonly events = { GROUP_JOIN: 'group_join', CRASH: 'crash' };
  private readonly handlers = new Map<string, Handler[]>();
  eachBatch: EachBatch | null = null;
  disconnected = false;
  constructor(private readonly failConnect: boolean) {}
  on(event: string, handler: Handler): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
  }
  emit(event: string, payload: Record<string, unknown>): void {
    for (const h of this.handlers.get(event) ?? []) h({ payload });
  }
  async connect(): Promise<void> {
    if (this.failConnect)
      throw Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1'), {
        name: 'KafkaJSConnectionError',
      });
  }
  async subscribe(): Promise<void> {}
  async run(options: { eachBatch: EachBatch }): Promise<void> {
    this.eachBatch = options.eachBatch;
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
}

/** The parts of a kafkajs client the follower uses: an admin that finds the topic compacted, and consumers. */
function standInKafka(failingConnects: number): { kafka: Kafka; consumers: StandInConsumer[] } {
  const consumers: StandInConsumer[] = [];
  let created = 0;
  const kafka = {
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      listTopics: async () => ['wsn.topology'],
      describeConfigs: async () => ({
        resources: [{ configEntries: [{ configName: 'cleanup.policy', configValue: 'compact' }] }],
      }),
    }),
    consumer: () => {
      // The first consumer connects; the next `failingConnects` fail (the broker is still down).
      const consumer = new StandInConsumer(created > 0 && created <= failingConnects);
      created++;
      consumers.push(consumer);
      return consumer;
    },
  } as unknown as Kafka;
  return { kafka, consumers };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('TopologyFollower restarts', () => {
  it('replaces a consumer kafkajs gave up on, keeps trying while connecting fails, reports its health, then applies new versions', async () => {
    const { kafka, consumers } = standInKafka(2);
    const follower = new TopologyFollower(
      {
        brokers: ['127.0.0.1:1'],
        network: 'lab',
        logger: createLogger('t', 'silent'),
        restartBackoffMs: 5,
        maxRestartBackoffMs: 20,
      },
      kafka,
    );
    expect(follower.health().following).toBe(false);
    await follower.start();
    consumers[0].emit('group_join', {});
    expect(follower.health()).toEqual({ following: true, reason: null, restarts: 0 });

    const crash = Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSNonRetriableError' });
    consumers[0].emit('crash', { error: crash, restart: false });
    expect(follower.health()).toMatchObject({
      following: false,
      reason: 'KafkaJSNonRetriableError: Failed to find group coordinator',
    });

    // Two attempts fail to connect, the third consumer connects and joins.
    await until(() => consumers.length === 4 && consumers[3].eachBatch !== null, 'a fourth consumer running');
    expect(consumers[0].disconnected).toBe(true);
    expect(follower.health()).toMatchObject({
      following: false,
      reason: expect.stringMatching(/ECONNREFUSED/),
      restarts: 3,
    });
    consumers[3].emit('group_join', {});
    expect(follower.health()).toEqual({ following: true, reason: null, restarts: 3 });

    // A version arriving on the new consumer is applied.
    const topology = createTopology(randomNodes(40, 9), { cluster: { maxSize: 10 } });
    const records = topologyRecords('lab', topology);
    const version = topologyVersion(topology);
    records.set(
      'lab/meta',
      JSON.stringify({
        kind: 'meta',
        rule: topology.network.rule,
        clusterOptions: topology.clustering.options,
        version,
        nodes: 40,
        clusters: topology.clustering.clusters.size,
        updatedAt: '2026-01-01T00:00:00Z',
      }),
    );
    const messages = [...records].map(([key, value], i) => ({
      key: Buffer.from(key),
      value: Buffer.from(value),
      offset: String(i),
    }));
    await consumers[3].eachBatch!({
      batch: { messages },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
    });
    expect(follower.currentVersion()).toBe(version);
    expect(exportClusters(follower.current()!)).toEqual(exportClusters(topology));

    // A crash kafkajs restarts by itself: not following until it joins again, and no consumer of ours is created.
    consumers[3].emit('crash', { error: new Error('retries exceeded'), restart: true });
    expect(follower.health().following).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(consumers.length).toBe(4);
    consumers[3].emit('group_join', {});
    expect(follower.health().following).toBe(true);

    await follower.stop();
    expect(follower.health()).toMatchObject({ following: false, reason: 'stopped' });
  });
});
