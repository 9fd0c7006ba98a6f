import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../../common/config.ts';
import { probeAlertmanager, probeInflux, probeKafka } from '../../../ops/probes.ts';

const START_HINT = 'start them first: `node bin/wsn-watch.mjs services up` (scripts/test-all.sh does it)';

/**
 * Checks that the real Kafka, InfluxDB and Alertmanager answer (the addresses
 * come from the wsn-watch config, so WSN_* variables apply) and fails with a
 * message saying which one does not and how to start it. Integration suites
 * call it in beforeAll.
 */
export async function requireServices(config: Config = loadConfig()): Promise<Config> {
  const [kafka, influx, alertmanager] = await Promise.all([
    probeKafka(config.kafka.brokers[0], 5_000),
    probeInflux(config.influx.url),
    probeAlertmanager(config.alertmanager.url),
  ]);
  const missing = [
    kafka ? undefined : `Kafka at ${config.kafka.brokers[0]}`,
    influx ? undefined : `InfluxDB at ${config.influx.url}`,
    alertmanager ? undefined : `Alertmanager at ${config.alertmanager.url}`,
  ].filter((item): item is string => item !== undefined);
  if (missing.length > 0) throw new Error(`integration services not answering: ${missing.join(', ')}; ${START_HINT}`);
  return config;
}

/** A name suffix unique to this test run, so reruns never see an earlier run's topics or databases. */
export function runId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** A plain kafkajs client of one foundation suite (set in its beforeAll). */
export interface FoundationKafka {
  kafka: Kafka;
  /** Connected before the suite's own hooks run. */
  admin: Admin;
  /** The first broker's address, for other clients (kcat). */
  broker: string;
  /** A consumer in `groupId`, disconnected after the suite. */
  consumer(groupId: string): Consumer;
}

/**
 * The suite's kafkajs client on the real broker: beforeAll checks the services
 * and connects an admin; afterAll disconnects the consumers, deletes `topics`
 * and disconnects the admin.
 */
export function useFoundationKafka(clientId: string, topics: readonly string[]): FoundationKafka {
  const consumers: Consumer[] = [];
  const fixture = {
    consumer(groupId: string): Consumer {
      const consumer = fixture.kafka.consumer({ groupId });
      consumers.push(consumer);
      return consumer;
    },
  } as FoundationKafka;
  beforeAll(async () => {
    const config = await requireServices();
    fixture.broker = config.kafka.brokers[0];
    fixture.kafka = new Kafka({ clientId, brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
    fixture.admin = fixture.kafka.admin();
    await fixture.admin.connect();
  });
  afterAll(async () => {
    for (const consumer of consumers) await consumer.disconnect();
    if (!fixture.admin) return;
    await fixture.admin.deleteTopics({ topics: [...topics] }).catch(() => undefined);
    await fixture.admin.disconnect();
  });
  return fixture;
}
