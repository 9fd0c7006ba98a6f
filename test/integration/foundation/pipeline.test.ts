import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { InfluxDB, type IPoint } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../../common/types.ts';
import { requireServices, runId } from './services.ts';
import { createTopicsAndWait } from '../../../transport/kafka-topics.ts';

// Kafka → consumer group → InfluxDB, end to end against the real services:
// every one of 10,000 readings must arrive exactly once in the database.
const READINGS = 10_000;
const NODES = 50;
const TICK_MS = 31_000;
const BASE_TS = Date.UTC(2004, 1, 28, 0, 0, 0);

const id = runId();
const topic = `wsn.test.foundation.readings.${id}`;
const groupId = `wsn-test-foundation-${id}`;
const database = `wsn_test_foundation_${id}`;

/** Reading i: node i mod 50, one tick later every 50 readings, so (node, ts) is unique and no point overwrites another. */
function reading(i: number): Reading {
  return {
    network: 'foundation-test',
    node: `n${i % NODES}`,
    ts: BASE_TS + Math.floor(i / NODES) * TICK_MS,
    values: { temperature: 18 + (i % 17) / 10, humidity: 40 + (i % 11), voltage: 2.6 },
  };
}

function toPoint(r: Reading): IPoint {
  return { measurement: 'reading', tags: { network: r.network, node: r.node }, fields: r.values, timestamp: r.ts };
}

describe('foundation: Kafka → consumer group → InfluxDB', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;
  let influx: InfluxDB;

  beforeAll(async () => {
    const config = await requireServices();
    kafka = new Kafka({ clientId: 'wsn-test-foundation', brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    influx = new InfluxDB({ host: new URL(config.influx.url).hostname, port: Number(new URL(config.influx.url).port) });
    await influx.createDatabase(database);
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.deleteGroups([groupId]).catch(() => undefined);
    await admin?.disconnect();
    await influx?.dropDatabase(database);
  });

  it('delivers all 10,000 produced readings to InfluxDB exactly once', async () => {
    await createTopicsAndWait(admin, [{ topic, numPartitions: 3 }]);

    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (let start = 0; start < READINGS; start += 1_000) {
      const messages = Array.from({ length: 1_000 }, (_, k) => {
        const r = reading(start + k);
        return { key: r.node, value: JSON.stringify(r) };
      });
      await producer.send({ topic, acks: -1, messages });
    }

    consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let consumed = 0;
    let writes = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            const points = batch.messages.map((m) => toPoint(JSON.parse(String(m.value)) as Reading));
            // One write per Kafka batch: the influx client sends them as one line-protocol request.
            await influx.writePoints(points, { database, precision: 'ms' });
            writes += 1;
            consumed += points.length;
            if (consumed >= READINGS) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    expect(consumed).toBe(READINGS);
    expect(writes).toBeLessThan(READINGS / 10); // batched, not one request per reading

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(committed).toBe(READINGS);

    const rows = await influx.query<{ count: number }>('SELECT count("temperature") AS "count" FROM "reading"', {
      database,
    });
    expect(rows[0].count).toBe(READINGS);
    const perNode = await influx.query<{ count: number }>(
      'SELECT count("humidity") AS "count" FROM "reading" GROUP BY "node"',
      { database },
    );
    const groups = perNode.groups();
    expect(groups).toHaveLength(NODES);
    expect(groups.map((g) => g.rows[0].count)).toEqual(Array.from({ length: NODES }, () => READINGS / NODES));
  });
});
