import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { requireKafka, testAdmin } from '../../support/kafka.ts';
import { runId } from '../foundation/services.ts';

const config = loadConfig();

describe('a keyed table on a compacted Kafka topic', () => {
  const id = runId();
  const topic = `test.table.${id}`;
  const bigTopic = `test.table.big.${id}`;
  const writer = new KafkaTransport({ brokers: config.kafka.brokers, clientId: `test-table-w-${id}` });
  const reader = new KafkaTransport({ brokers: config.kafka.brokers, clientId: `test-table-r-${id}` });
  const admin = testAdmin(config, `test-table-admin-${id}`);

  beforeAll(async () => {
    await requireKafka(config);
    await admin.connect();
  });

  afterAll(async () => {
    await writer.close();
    await reader.close();
    await admin.deleteTopics({ topics: [topic, bigTopic] }).catch(() => undefined);
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

  it('writes a put larger than the broker takes in one request (3 MB) in several, in order', async () => {
    const table = writer.table({ topic: bigTopic, partitions: 1 });
    const entries = Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: String(i % 10).repeat(100_000) }));
    // The same key first and last: the last value must win, so the requests went out in order.
    await table.put([{ key: 'order', value: 'first' }, ...entries, { key: 'order', value: 'last' }]);
    const other = reader.table({ topic: bigTopic, partitions: 1 });
    const seen = await other.readToEnd();
    expect(seen.size).toBe(31);
    expect(seen.get('order')?.toString('utf8')).toBe('last');
    for (const { key, value } of entries) expect(seen.get(key)?.toString('utf8')).toBe(value);
    await table.close();
    await other.close();
  });
});
