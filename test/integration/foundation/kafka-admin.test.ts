import { ConfigResourceTypes } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { runId, useFoundationKafka } from './services.ts';
import { createTopicsAndWait } from '../../../transport/kafka-topics.ts';

// The parts of the Kafka protocol wsn-watch relies on, spoken by kafkajs 2.2.4
// to the broker version `services up` runs: explicit topic creation with
// partitions and configs (the compacted wsn.topology), and keyed messages read
// back per key.
const id = runId();
const partitioned = `wsn.test.foundation.frames.${id}`;
const compacted = `wsn.test.foundation.topology.${id}`;
const fresh = Array.from({ length: 8 }, (_, i) => `wsn.test.foundation.fresh${i}.${id}`);

describe('foundation: Kafka admin and compacted topics', () => {
  const client = useFoundationKafka('wsn-test-foundation-admin', [partitioned, compacted, ...fresh]);

  it('creates topics with the requested partitions and cleanup policy', async () => {
    const { admin } = client;
    await createTopicsAndWait(admin, [
      { topic: partitioned, numPartitions: 4 },
      { topic: compacted, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]);
    expect(await admin.listTopics()).toEqual(expect.arrayContaining([partitioned, compacted]));

    const metadata = await admin.fetchTopicMetadata({ topics: [partitioned, compacted] });
    const partitions = Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual({ [partitioned]: 4, [compacted]: 1 });

    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: compacted, configNames: ['cleanup.policy'] }],
    });
    expect(described.resources[0].configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe(
      'compact',
    );
  });

  // Right after CreateTopics the metadata can name a leader that still answers
  // NOT_LEADER_FOR_PARTITION (about half the time here): a created topic is one whose offsets can be read.
  it('returns only when every new topic answers for its offsets', async () => {
    const { admin } = client;
    for (const topic of fresh) {
      await createTopicsAndWait(admin, [{ topic, numPartitions: 3 }]);
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.map((o) => o.high)).toEqual(['0', '0', '0']);
    }
  });

  it('keeps keyed messages in key order on a compacted topic and reads the latest value per key', async () => {
    const producer = client.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: compacted,
      acks: -1,
      messages: [
        { key: 'cluster-a', value: 'v1' },
        { key: 'cluster-b', value: 'v1' },
        { key: 'cluster-a', value: 'v2' },
      ],
    });
    await producer.disconnect();

    const consumer = client.consumer(`wsn-test-foundation-admin-${id}`);
    await consumer.connect();
    await consumer.subscribe({ topic: compacted, fromBeginning: true });
    const latest = new Map<string, string>();
    let seen = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            latest.set(String(message.key), String(message.value));
            if (++seen === 3) resolve();
          },
        })
        .catch(reject);
    });
    expect(Object.fromEntries(latest)).toEqual({ 'cluster-a': 'v2', 'cluster-b': 'v1' });
  });
});
