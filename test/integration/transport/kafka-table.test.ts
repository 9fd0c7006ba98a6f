import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../../common/config.ts';
import { probeKafka } from '../../../ops/probes.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { runId } from '../foundation/services.ts';

const config = loadConfig();

describe('a keyed table on a compacted Kafka topic', () => {
  const id = runId();
  const topic = `test.table.${id}`;
  const writer = new KafkaTransport({ brokers: config.kafka.brokers, clientId: `test-table-w-${id}` });
  const reader = new KafkaTransport({ brokers: config.kafka.brokers, clientId: `test-table-r-${id}` });
  const admin = new Kafka({
    brokers: config.kafka.brokers,
    clientId: `test-table-admin-${id}`,
    logLevel: logLevel.NOTHING,
  }).admin();

  beforeAll(async () => {
    if (!(await probeKafka(config.kafka.brokers[0], 5_000))) {
      throw new Error(
        `Kafka at ${config.kafka.brokers[0]} does not answer; start it: node bin/wsn-watch.mjs services up`,
      );
    }
    await admin.connect();
  });

  afterAll(async () => {
    await writer.close();
    await reader.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('creates the compacted topic, and a reader opened later sees the newest value of every key, without deleted keys', async () => {
    const table = writer.table({ topic, partitions: 3 });
    await table.put([
      { key: 'a', value: 'a1' },
      { key: 'b', value: 'b1' },
      { key: 'c', value: 'c1' },
    ]);
    await table.put([
      { key: 'a', value: 'a2' },
      { key: 'b', value: null },
    ]);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0].partitions).toHaveLength(3);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }],
    });
    expect(configs.resources[0].configEntries[0].configValue).toBe('compact');

    const other = reader.table({ topic, partitions: 3 });
    const seen = await other.readToEnd();
    expect(Object.fromEntries([...seen].map(([key, value]) => [key, value.toString('utf8')]))).toEqual({
      a: 'a2',
      c: 'c1',
    });

    // A write made after the first read is seen by the next one.
    await table.put([{ key: 'd', value: 'd1' }]);
    expect([...(await other.readToEnd()).keys()].sort()).toEqual(['a', 'c', 'd']);
    await table.close();
    await other.close();
  });
});
