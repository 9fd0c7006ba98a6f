import { afterAll, beforeAll } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Config } from '../../common/config.ts';
import type { IncomingMessage, OutgoingMessage, Subscription } from '../../common/transport.ts';
import type { Frame } from '../../common/types.ts';
import { createLogger } from '../../common/log.ts';
import { MemoryCheckpointStore } from '../../ingest/checkpoint.ts';
import type { NodeDirectory } from '../../ingest/directory.ts';
import { startIngestService, type IngestService } from '../../ingest/service.ts';
import type { IngestTopicNames } from '../../ingest/topics.ts';
import { probeKafka } from '../../ops/probes.ts';
import { KafkaTransport } from '../../transport/kafka.ts';
import { runId } from '../integration/foundation/services.ts';

/** Fails with how to start it when the shared broker does not answer, instead of a test timing out. */
export async function requireKafka(config: Pick<Config, 'kafka'>): Promise<void> {
  const [broker] = config.kafka.brokers;
  if (!(await probeKafka(broker, 5_000)))
    throw new Error(`Kafka at ${broker} does not answer; start it: node bin/wsn-watch.mjs services up`);
}

/** A quiet kafkajs admin on the shared broker, for a test's checks and clean-up. */
export function testAdmin(config: Pick<Config, 'kafka'>, clientId: string): Admin {
  return new Kafka({ brokers: config.kafka.brokers, clientId, logLevel: logLevel.NOTHING }).admin();
}

/** Deletes a test's topics (whatever of them exists) and disconnects the admin. */
export async function dropTopics(admin: Admin, topics: string[]): Promise<void> {
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

export interface IngestOnKafka {
  id: string;
  /** Topics of this run only: `test.<name>.<id>`, `test.<name>.dlq.<id>`, `test.<name>.frames.<id>`. */
  topics: IngestTopicNames;
  transport: KafkaTransport;
  admin: Admin;
  /** The consumer group the test's ingest service should use. */
  groupId: string;
  /** The service `start` started; stopped after the describe block's tests. */
  service: IngestService | null;
  /** Starts ingest on these topics in its own group, with in-memory checkpoints, no HTTP and a silent log. */
  start(directory: NodeDirectory): Promise<IngestService>;
  /** Sends `messages` to the readings topic in order, `perRequest` at a time. */
  sendReadings(messages: OutgoingMessage[], perRequest: number): Promise<void>;
  /** Reads what ingest wrote, frames and DLQ records, from the beginning, in consumer group `groupId`. */
  readOutput(
    groupId: string,
    handlers: { frame(frame: Frame, message: IncomingMessage): void; dlq(message: IncomingMessage): void },
  ): Promise<Subscription>;
}

/**
 * An ingest service's surroundings on the real broker, for one describe block:
 * its own topics, a transport and an admin; the hooks check the broker first
 * and afterwards stop the service, close the transport and delete the topics.
 */
export function useIngestOnKafka(config: Config, name: string): IngestOnKafka {
  const id = runId();
  const fixture: IngestOnKafka = {
    id,
    topics: {
      readings: `test.${name}.${id}`,
      readingsDlq: `test.${name}.dlq.${id}`,
      frames: `test.${name}.frames.${id}`,
    },
    transport: new KafkaTransport({
      brokers: config.kafka.brokers,
      clientId: `itest-${name}-${id}`,
      retryBackoffMs: 100,
    }),
    admin: testAdmin(config, `itest-admin-${id}`),
    groupId: `itest-${name}-${id}`,
    service: null,
    async start(directory) {
      fixture.service = await startIngestService({
        config,
        transport: fixture.transport,
        directory,
        checkpoints: new MemoryCheckpointStore(),
        logger: createLogger(`itest-${name}`, 'silent'),
        http: false,
        groupId: fixture.groupId,
        topics: fixture.topics,
      });
      return fixture.service;
    },
    async sendReadings(messages, perRequest) {
      const producer = await fixture.transport.producer();
      for (let i = 0; i < messages.length; i += perRequest)
        await producer.send(fixture.topics.readings, messages.slice(i, i + perRequest));
      await producer.close();
    },
    readOutput(groupId, handlers) {
      return fixture.transport.subscribe({
        groupId,
        topics: [fixture.topics.frames, fixture.topics.readingsDlq],
        fromBeginning: true,
        onBatch: async (batch) => {
          for (const message of batch.messages) {
            if (batch.topic === fixture.topics.frames)
              handlers.frame(JSON.parse(message.value.toString()) as Frame, message);
            else handlers.dlq(message);
          }
        },
      });
    },
  };
  beforeAll(async () => {
    await requireKafka(config);
    await fixture.admin.connect();
  });
  afterAll(async () => {
    await fixture.service?.stop();
    await fixture.transport.close();
    await dropTopics(fixture.admin, Object.values(fixture.topics));
  });
  return fixture;
}
