import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin, type Batch, type Kafka, type Producer } from 'kafkajs';
import type { KeyedTable, TableEntry, TableSpec } from '../common/transport.ts';
import type { Logger } from '../common/log.ts';
import { createTopicsAndWait } from './kafka-topics.ts';
import { chunkBySize, MAX_REQUEST_BYTES, messageBytes } from './chunk.ts';
import {
  retryTransient,
  superviseConsumer,
  type HealthBoard,
  type RetryForeverOptions,
  type SupervisedConsumer,
} from './supervise.ts';

export interface KafkaKeyedTableOptions extends TableSpec {
  kafka: Kafka;
  logger: Logger;
  /** Longest wait in readToEnd without the reader moving on towards the topic's end, ms. */
  catchUpTimeoutMs?: number;
  /** Where the reader and the writer say they are down (the transport's, so /readyz sees them). */
  health?: HealthBoard;
  /** Most bytes in one produce request; a larger `put` goes out in several, in order (default 512 KiB). */
  maxRequestBytes?: number;
  /** Aborted: a write waiting for Kafka gives up (the transport's stopRetrying). */
  giveUp?: AbortSignal;
}

/** The newest value per key of a compacted topic read from its start (kept keys only), and how far it has read. */
class TopicReplica {
  readonly latest = new Map<string, Buffer>();
  /** Next offset to read, per partition. */
  private readonly position = new Map<number, bigint>();
  private readonly waiters = new Set<() => void>();
  /** When the last batch came (Date.now()), for readPast's stall check. */
  private lastBatchAt = Date.now();

  constructor(private readonly keep?: (key: string) => boolean) {}

  apply(batch: Batch): void {
    for (const message of batch.messages) {
      const key = message.key?.toString('utf8');
      if (key === undefined || (this.keep && !this.keep(key))) continue;
      if (message.value === null) this.latest.delete(key);
      else this.latest.set(key, message.value);
    }
    this.position.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
    this.lastBatchAt = Date.now();
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * Waits until every partition is read past `ends`. Gives up when no batch
   * came for `stallMs`: a large topic takes as long as it takes, a stalled
   * reader does not.
   */
  async readPast(ends: PartitionEnds, stallMs: number, topic: string): Promise<void> {
    const caughtUp = (): boolean =>
      ends.every(({ partition, high, low }) => high === low || (this.position.get(partition) ?? 0n) >= BigInt(high));
    const since = Date.now();
    while (!caughtUp()) {
      if (Date.now() - Math.max(since, this.lastBatchAt) > stallMs) {
        throw new Error(`table ${topic}: the reader did not reach the end offsets (no progress for ${stallMs} ms)`);
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
  }
}

type PartitionEnds = Array<{ partition: number; high: string; low: string }>;

/**
 * A compacted Kafka topic as a keyed table. Mirrored (the default): a
 * background reader (a consumer group of its own that never commits, so it
 * always starts from the beginning) keeps the newest value per key and drops
 * keys whose newest record is a tombstone; `readToEnd` fetches the topic's end
 * offsets and waits until the reader has passed them, so it sees every write
 * made before the call. Not mirrored: nothing is held between reads, and each
 * `readToEnd` reads the topic from its start to its end offsets, keeping only
 * the keys asked for (for large tables read rarely, such as the detector's
 * checkpoints, read at a rebalance for the clusters a replica owns).
 * The producer is idempotent, so a retried write is not duplicated; a large
 * `put` goes out in requests the broker accepts, in order.
 */
export class KafkaKeyedTable implements KeyedTable {
  readonly topic: string;
  private mirror: TopicReplica | undefined;
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
      await retryTransient(() => this.producer!.send(request), this.retrying('producer'));
    }
  }

  /** How the table retries a Kafka call through an outage: named for its logs, reported on its health board. */
  private retrying(what: string): RetryForeverOptions {
    const { logger, health, giveUp } = this.options;
    return { name: `table ${what} ${this.topic}`, logger, health, giveUp };
  }

  async readToEnd(keep?: (key: string) => boolean): Promise<Map<string, Buffer>> {
    await this.open();
    // A topic just created can have a leader in the metadata before that broker
    // answers for the partition (NOT_LEADER_FOR_PARTITION), which kafkajs does not retry.
    const ends = await retryTransient(() => this.admin!.fetchTopicOffsets(this.topic), {
      ...this.retrying('offsets'),
      minBackoffMs: 100,
    });
    const stallMs = this.options.catchUpTimeoutMs ?? 60_000;
    if (this.mirror) {
      await this.mirror.readPast(ends, stallMs, this.topic);
      const out = new Map<string, Buffer>();
      for (const [key, value] of this.mirror.latest) if (!keep || keep(key)) out.set(key, value);
      return out;
    }
    if (ends.every(({ high, low }) => high === low)) return new Map();
    const replica = new TopicReplica(keep);
    const reader = await this.startReader(replica, 'table read');
    try {
      await replica.readPast(ends, stallMs, this.topic);
    } finally {
      await reader.close();
    }
    return replica.latest;
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
    if (this.options.mirror === false) return;
    this.mirror = new TopicReplica();
    this.consumer = await this.startReader(this.mirror, 'table reader');
  }

  /**
   * A reader of the whole topic into `replica`, rebuilt after a broker outage
   * (it never commits, so a rebuilt reader re-reads the compacted topic from
   * the start).
   */
  private startReader(replica: TopicReplica, name: string): Promise<SupervisedConsumer> {
    const { kafka, topic } = this.options;
    return superviseConsumer({
      name: `${name} ${topic}`,
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
      start: async (consumer) => {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch, heartbeat }) => {
            replica.apply(batch);
            await heartbeat();
          },
        });
      },
    });
  }
}
