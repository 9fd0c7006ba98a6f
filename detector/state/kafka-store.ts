import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import type { Logger } from '../../common/log.ts';
import { encodeCheckpoint, type ClusterCheckpoint } from './checkpoint.ts';
import { keepNewest } from './memory-store.ts';
import type { CheckpointStore } from './store.ts';
import { createTopicsAndWait } from '../../transport/kafka-topics.ts';
import type { KafkaSecurity } from '../../transport/security.ts';
import { retryTransient, superviseConsumer, type SupervisedConsumer } from '../../transport/supervise.ts';

export interface KafkaCheckpointStoreOptions {
  brokers: string[];
  clientId: string;
  topic: string;
  /** Partitions when the topic has to be created. */
  partitions?: number;
  logger: Logger;
  /** Longest wait for the reader to reach the topic's end in loadAll, ms. */
  catchUpTimeoutMs?: number;
  /** SASL and TLS (config kafka.sasl / kafka.ssl). */
  security?: KafkaSecurity;
}

/**
 * Checkpoints on a compacted Kafka topic, key = cluster id. A background
 * reader (a consumer group of its own that never commits, so it always starts
 * from the beginning) keeps the newest checkpoint per cluster; `loadAll`
 * fetches the topic's end offsets and waits until the reader has passed them,
 * so it sees every checkpoint written before the call — in particular the
 * last one of a replica that just handed a cluster over.
 */
export class KafkaCheckpointStore implements CheckpointStore {
  private readonly kafka: Kafka;
  private readonly latest = new Map<string, ClusterCheckpoint>();
  /** Next offset the reader will read, per partition. */
  private readonly position = new Map<number, bigint>();
  private readonly waiters = new Set<() => void>();
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private consumer: SupervisedConsumer | undefined;
  private started: Promise<void> | undefined;

  constructor(private readonly options: KafkaCheckpointStoreOptions) {
    this.kafka = new Kafka({ clientId: `${options.clientId}-state`, brokers: options.brokers, ...options.security, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200 } });
  }

  /** Creates the topic if missing and starts the reader (once). */
  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  async save(checkpoints: ClusterCheckpoint[]): Promise<void> {
    if (checkpoints.length === 0) return;
    await this.start();
    const request = { topic: this.options.topic, acks: -1, messages: checkpoints.map((checkpoint) => ({ key: checkpoint.cluster, value: encodeCheckpoint(checkpoint) })) };
    // Through a broker outage: the same idempotent producer until Kafka takes it.
    await retryTransient(() => this.producer!.send(request), { name: `state producer ${this.options.topic}`, logger: this.options.logger });
  }

  async loadAll(): Promise<Map<string, ClusterCheckpoint>> {
    await this.start();
    const ends = await this.admin!.fetchTopicOffsets(this.options.topic);
    const caughtUp = (): boolean => ends.every(({ partition, high, low }) => high === low || (this.position.get(partition) ?? 0n) >= BigInt(high));
    const timeoutMs = this.options.catchUpTimeoutMs ?? 60_000;
    const started = Date.now();
    while (!caughtUp()) {
      if (Date.now() - started > timeoutMs) throw new Error(`state topic ${this.options.topic}: reader did not reach the end offsets within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
        setTimeout(wake, 200);
      });
    }
    return new Map(this.latest);
  }

  async close(): Promise<void> {
    await this.consumer?.close();
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }

  private async doStart(): Promise<void> {
    const { topic, logger } = this.options;
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const topics = await this.admin.listTopics();
    if (!topics.includes(topic)) {
      // Another replica may create it at the same moment: createTopicsAndWait accepts that.
      await createTopicsAndWait(this.admin, [{ topic, numPartitions: this.options.partitions ?? 6, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }]);
    }
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
    // A short long-poll so close() does not wait the default 5 s for a fetch to return.
    // Rebuilt after a broker outage (it never commits, so a rebuilt reader re-reads the compacted topic from the start).
    this.consumer = await superviseConsumer({
      name: `state reader ${topic}`,
      logger,
      create: () => this.kafka.consumer({ groupId: `wsn-detector-state-reader-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 }),
      start: (consumer) => this.runReader(consumer),
    });
  }

  private async runReader(consumer: Consumer): Promise<void> {
    const { topic, logger } = this.options;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const message of batch.messages) {
          if (message.key && message.value) keepNewest(this.latest, message.key.toString('utf8'), message.value, logger);
          resolveOffset(message.offset);
        }
        const last = batch.lastOffset();
        this.position.set(batch.partition, BigInt(last) + 1n);
        for (const wake of [...this.waiters]) wake();
        await heartbeat();
      },
    });
  }
}
