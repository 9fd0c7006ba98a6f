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
  const onDemandTopic = `test.table.ondemand.${id}`;
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
    await admin.deleteTopics({ topics: [topic, bigTopic, onDemandTopic] }).catch(() => undefined);
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

  it('not mirrored, reads the topic from its start on each read, keeps only the keys asked for, and holds nothing between reads', async () => {
    // The writer is not mirrored either: a reader of the topic in a group after the reads would be the reading table's.
    const table = writer.table({ topic: onDemandTopic, partitions: 3, mirror: false });
    const other = reader.table({ topic: onDemandTopic, partitions: 3, mirror: false });
    // An empty topic answers at once, with no reader to start.
    expect(await other.readToEnd()).toEqual(new Map());
    await table.put([
      { key: 'own-1', value: 'a1' },
      { key: 'other-1', value: 'b1' },
      { key: 'own-2', value: 'c1' },
    ]);
    await table.put([
      { key: 'own-1', value: 'a2' },
      { key: 'own-2', value: null },
    ]);
    const text = (seen: Map<string, Buffer>) =>
      Object.fromEntries([...seen].map(([key, value]) => [key, value.toString('utf8')]));
    expect(text(await other.readToEnd((key) => key.startsWith('own-')))).toEqual({ 'own-1': 'a2' });
    // A later write, and another choice of keys: each read starts again from the beginning.
    await table.put([{ key: 'own-3', value: 'd1' }]);
    expect(text(await other.readToEnd())).toEqual({ 'own-1': 'a2', 'other-1': 'b1', 'own-3': 'd1' });
    // No reader is left in a consumer group between reads.
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId);
    const described = await admin.describeGroups(groups.filter((group) => group.startsWith('wsn-table-reader-')));
    const readingTopic = described.groups.filter(
      (group) =>
        group.state === 'Stable' &&
        group.members.some((member) => member.memberAssignment.includes(Buffer.from(onDemandTopic))),
    );
    expect(readingTopic).toEqual([]);
    await table.close();
    await other.close();
  });
});
