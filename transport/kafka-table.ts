import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { KeyedTable, TableEntry, TableSpec } from '../common/transport.ts';
import type { Logger } from '../common/log.ts';
import { createTopicsAndWait } from './kafka-topics.ts';
import { chunkBySize, MAX_REQUEST_BYTES, messageBytes } from './chunk.ts';
import { retryTransient, superviseConsumer, type HealthBoard, type SupervisedConsumer } from './supervise.ts';

export interface KafkaKeyedTableOptions extends TableSpec {
  kafka: Kafka;
  logger: Logger;
  /** Longest wait for the reader to reach the topic's end in readToEnd, ms. */
  catchUpTimeoutMs?: number;
  /** Where the reader and the writer say they are down (the transport's, so /readyz sees them). */
  health?: HealthBoard;
  /** Most bytes in one produce request; a larger `put` goes out in several, in order (default 512 KiB). */
  maxRequestBytes?: number;
  /** Aborted: a write waiting for Kafka gives up (the transport's stopRetrying). */
  giveUp?: AbortSignal;
}

/**
 * A compacted Kafka topic as a keyed table. A background reader (a consumer
 * group of its own that never commits, so it always starts from the
 * beginning) keeps the newest value per key and drops keys whose newest record
 * is a tombstone; `readToEnd` fetches the topic's end offsets and waits until
 * the reader has passed them, so it sees every write made before the call.
 * The producer is idempotent, so a retried write is not duplicated; a large
 * `put` goes out in requests the broker accepts, in order.
 */
export class KafkaKeyedTable implements KeyedTable {
  readonly topic: string;
  private readonly latest = new Map<string, Buffer>();
  /** Next offset the reader will read, per partition. */
  private readonly position = new Map<number, bigint>();
  private readonly waiters = new Set<() => void>();
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private consumer: SupervisedConsumer | undefined;
  private opened: Promise<void> | undefined;

  constructor(private readonly options: KafkaKeyedTableOptions) {
    this.topic = options.topic;
  }

  open(): Promise<void> {
    this.opened ??= this.connect();
    return this.opened;
  }

  async put(entries: TableEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.open();
    const limit = this.options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    for (const chunk of chunkBySize(entries, messageBytes, limit)) {
      const request = { topic: this.topic, acks: -1, messages: chunk.map(({ key, value }) => ({ key, value })) };
      // Through a broker outage: the same idempotent producer until Kafka takes it.
      await retryTransient(() => this.producer!.send(request), {
        name: `table producer ${this.topic}`,
        logger: this.options.logger,
        health: this.options.health,
        giveUp: this.options.giveUp,
      });
    }
  }

  async readToEnd(): Promise<Map<string, Buffer>> {
    await this.open();
    const ends = await this.admin!.fetchTopicOffsets(this.topic);
    const caughtUp = (): boolean =>
      ends.every(({ partition, high, low }) => high === low || (this.position.get(partition) ?? 0n) >= BigInt(high));
    const timeoutMs = this.options.catchUpTimeoutMs ?? 60_000;
    const started = Date.now();
    while (!caughtUp()) {
      if (Date.now() - started > timeoutMs) {
        throw new Error(`table ${this.topic}: the reader did not reach the end offsets within ${timeoutMs} ms`);
      }
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

  private async connect(): Promise<void> {
    const { kafka, topic } = this.options;
    this.admin = kafka.admin();
    await this.admin.connect();
    const topics = await this.admin.listTopics();
    if (!topics.includes(topic)) {
      // Another process may create it at the same moment: createTopicsAndWait accepts that.
      await createTopicsAndWait(this.admin, [
        {
          topic,
          numPartitions: this.options.partitions,
          replicationFactor: -1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ]);
    }
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.producer.connect();
    // Rebuilt after a broker outage (it never commits, so a rebuilt reader re-reads the compacted topic from the start).
    this.consumer = await superviseConsumer({
      name: `table reader ${topic}`,
      logger: this.options.logger,
      health: this.options.health,
      // A short long-poll so close() does not wait the default 5 s for a fetch to return.
      create: (retry) =>
        kafka.consumer({
          retry,
          groupId: `wsn-table-reader-${randomUUID()}`,
          allowAutoTopicCreation: false,
          maxWaitTimeInMs: 500,
        }),
      start: (consumer) => this.runReader(consumer),
    });
  }

  private async runReader(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const message of batch.messages) {
          const key = message.key?.toString('utf8');
          if (key !== undefined) {
            if (message.value === null) this.latest.delete(key);
            else this.latest.set(key, message.value);
          }
          resolveOffset(message.offset);
        }
        this.position.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
        for (const wake of [...this.waiters]) wake();
        await heartbeat();
      },
    });
  }
}
