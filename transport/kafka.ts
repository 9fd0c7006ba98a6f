import {
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type KafkaMessage,
  type LogEntry,
  type Producer,
  type IHeaders,
} from 'kafkajs';
// Loaded for its effect: the fix of kafkajs's request queue (a 1 ms timer loop per connection), before any connection.
import './kafkajs-request-queue.ts';
import { chunkBySize, MAX_REQUEST_BYTES, messageBytes } from './chunk.ts';
import { createTopicsAndWait, ensureCompacted } from './kafka-topics.ts';
import { KafkaKeyedTable } from './kafka-table.ts';
import type {
  BatchAgain,
  BatchCommit,
  IncomingMessage,
  KeyedTable,
  TableSpec,
  SubscribeOptions,
  Subscription,
  TopicSpec,
  Transport,
  TransportProducer,
} from '../common/transport.ts';
import { createLogger, type Logger } from '../common/log.ts';
import type { KafkaSecurity } from './security.ts';
import {
  HealthBoard,
  retryTransient,
  superviseConsumer,
  type ConsumerRetry,
  type SupervisedConsumer,
} from './supervise.ts';

/**
 * The Kafka transport (kafkajs). Delivery is at-least-once: a batch's offsets
 * are committed only after `onBatch` resolves; when it rejects, the consumer
 * seeks back to the batch's first offset and the batch is fetched again after
 * a backoff. Producers wait for all in-sync replicas (acks -1) and are
 * idempotent, so a retried send does not duplicate messages in the log.
 *
 * Broker outages (supervise.ts): a send is retried with the same producer
 * until Kafka takes it, however long the outage; a consumer that kafkajs
 * gives up on is rebuilt and rejoins its group. `health()` lists what is down.
 */
export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  /** Wait before redelivering a batch whose onBatch rejected, in ms (doubles up to 30× this). */
  retryBackoffMs?: number;
  /** Consumer session timeout, ms (kafkajs default 30 s). */
  sessionTimeoutMs?: number;
  /**
   * Most bytes fetched per partition and round (kafkajs default 1 MiB). Smaller
   * values keep partitions of a backlog in step with each other, which matters
   * to consumers that merge partitions by event time.
   */
  maxBytesPerPartition?: number;
  /** Most bytes of message values in one produce request; larger sends are split (default 512 KiB). */
  maxRequestBytes?: number;
  /** SASL and TLS (security.ts, from config kafka.sasl / kafka.ssl). */
  security?: KafkaSecurity;
}

export { chunkBySize } from './chunk.ts';

/** Bytes a fetch waits for when a subscription asks to batch (batchWaitMs): more than a live stream sends in the wait. */
const BATCH_WAIT_MIN_BYTES = 4 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const IDEMPOTENT_RETRY_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** Routes kafkajs's own logs into our pino logger. */
function pinoLogCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const fields = { kafkajs: namespace, ...extra };
      // kafkajs logs every failed request of its connection layer as an error,
      // including the retriable ones it recovers from (coordinator loading,
      // leader moving); what it cannot recover from reaches our code as an exception.
      if (level === logLevel.ERROR && namespace === 'Connection') logger.warn(fields, message);
      // kafkajs warns whenever an idempotent producer's own retries are bounded; ours are, because
      // retryTransient resends on the same producer until Kafka takes it, which keeps the guarantee.
      else if (message === IDEMPOTENT_RETRY_WARNING) logger.debug(fields, message);
      else if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.debug(fields, message);
      else logger.trace(fields, message);
    };
}

function headersToRecord(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    out[name] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

function toIncoming(topic: string, partition: number, message: KafkaMessage): IncomingMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key === null || message.key === undefined ? null : message.key.toString('utf8'),
    value: message.value ?? Buffer.alloc(0),
    headers: headersToRecord(message.headers),
    timestamp: Number(message.timestamp),
    ...(message.value === null ? { tombstone: true } : {}),
  };
}

export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly retryBackoffMs: number;
  /** How long the group waits for a consumer of ours that stopped without leaving. */
  readonly sessionTimeoutMs: number;
  private readonly maxBytesPerPartition: number | undefined;
  private readonly maxRequestBytes: number;
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<SupervisedConsumer>();
  private readonly board = new HealthBoard();
  private readonly clientId: string;
  /** Aborted by stopRetrying: sends and table writes waiting for Kafka give up. */
  private readonly giveUp = new AbortController();

  constructor(options: KafkaTransportOptions) {
    this.logger = options.logger ?? createLogger('transport.kafka');
    this.retryBackoffMs = options.retryBackoffMs ?? 500;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.maxBytesPerPartition = options.maxBytesPerPartition;
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    this.clientId = options.clientId;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...options.security,
      logLevel: logLevel.INFO,
      logCreator: pinoLogCreator(this.logger),
      // kafkajs gives up after about 13 s of failed requests; the loops of
      // supervise.ts then retry forever, and the health board shows the outage.
      retry: { retries: 5, initialRetryTime: 200 },
    });
  }

  /**
   * Creates missing topics (compacted ones with cleanup.policy=compact), adds
   * partitions to existing topics that have fewer than asked for, and switches
   * an existing topic asked for as compacted to cleanup.policy=compact.
   */
  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length > 0) {
        await createTopicsAndWait(
          admin,
          missing.map((s) => ({
            topic: s.topic,
            numPartitions: s.partitions,
            replicationFactor: -1,
            configEntries: s.compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
          })),
        );
      }
      const present = specs.filter((s) => existing.has(s.topic));
      if (present.length > 0) {
        const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
        const grow = present.flatMap((s) => {
          const current = metadata.topics.find((t) => t.name === s.topic)?.partitions.length ?? 0;
          return current < s.partitions ? [{ topic: s.topic, count: s.partitions }] : [];
        });
        if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
        for (const spec of present) if (spec.compact) await ensureCompacted(admin, spec.topic, this.logger);
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** What is down right now (consumers being rebuilt, sends waiting for Kafka); empty when all is well. */
  health(): string[] {
    return this.board.list();
  }

  async producer(): Promise<TransportProducer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.producers.add(producer);
    // A send waiting for Kafka ends when the producer closes, or when the transport gives up (stopRetrying).
    const closing = new AbortController();
    const giveUp = AbortSignal.any([closing.signal, this.giveUp.signal]);
    const name = `producer ${this.clientId}`;
    return {
      send: async (topic, messages) => {
        // One request per chunk: the broker refuses requests above its message.max.bytes.
        for (const chunk of chunkBySize(messages, messageBytes, this.maxRequestBytes)) {
          const request = {
            topic,
            acks: -1,
            messages: chunk.map((m) => ({
              key: m.key,
              value: m.value,
              headers: m.headers,
              timestamp: m.timestamp === undefined ? undefined : String(m.timestamp),
            })),
          };
          // The same chunk on the same idempotent producer until Kafka takes it:
          // chunks already sent are not sent again, and a copy the broker already has is dropped by it.
          await retryTransient(() => producer.send(request), {
            name,
            logger: this.logger,
            health: this.board,
            giveUp,
          });
        }
      },
      close: async () => {
        closing.abort();
        this.board.clear(name);
        this.producers.delete(producer);
        await producer.disconnect();
      },
    };
  }

  /** A fresh group consumer (the supervisor makes a new one on each restart) that reports its assignments. */
  private createConsumer(options: SubscribeOptions, retry: ConsumerRetry): Consumer {
    const maxBytesPerPartition = options.maxBytesPerPartition ?? this.maxBytesPerPartition;
    const consumer = this.kafka.consumer({
      retry,
      groupId: options.groupId,
      sessionTimeout: this.sessionTimeoutMs,
      allowAutoTopicCreation: false,
      ...(maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition }),
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      // The broker answers a fetch at minBytes or after maxWaitTimeInMs, whichever comes first: a backlog
      // still comes in full fetches, a live stream in batches of batchWaitMs.
      ...(options.batchWaitMs ? { minBytes: BATCH_WAIT_MIN_BYTES, maxWaitTimeInMs: options.batchWaitMs } : {}),
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment: Record<string, number[]> = {};
      for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
        assignment[topic] = [...partitions].sort((a, b) => a - b);
      }
      this.logger.info({ groupId: options.groupId, assignment }, 'partitions assigned');
      Promise.resolve(options.onAssignment?.(assignment)).catch((error: unknown) =>
        this.logger.error({ err: error, groupId: options.groupId }, 'onAssignment failed'),
      );
    });
    return consumer;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const failures = new Map<string, number>();
    const create = (retry: ConsumerRetry): Consumer => this.createConsumer(options, retry);
    const start = async (consumer: Consumer): Promise<void> => {
      await consumer.connect();
      await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.concurrentPartitions ?? 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
          if (batch.isEmpty() || !isRunning() || isStale()) return;
          const tp = `${batch.topic}:${batch.partition}`;
          const messages = batch.messages.map((m) => toIncoming(batch.topic, batch.partition, m));
          let handled: void | BatchCommit | BatchAgain;
          try {
            handled = await options.onBatch({
              topic: batch.topic,
              partition: batch.partition,
              messages,
              highWatermark: batch.highWatermark,
              heartbeat,
            });
          } catch (error) {
            const count = (failures.get(tp) ?? 0) + 1;
            failures.set(tp, count);
            const first = messages[0].offset;
            this.logger.warn(
              {
                err: error,
                groupId: options.groupId,
                topic: batch.topic,
                partition: batch.partition,
                offset: first,
                failures: count,
              },
              'onBatch failed; the batch will be delivered again',
            );
            // Seek back so the next fetch starts at this batch again; nothing is resolved or committed.
            consumer.seek({ topic: batch.topic, partition: batch.partition, offset: first });
            await sleep(Math.min(this.retryBackoffMs * 2 ** (count - 1), this.retryBackoffMs * 30));
            await heartbeat();
            return;
          }
          failures.delete(tp);
          if (handled && 'again' in handled) {
            // Nothing resolved or committed: the next fetch starts at this batch again and brings what followed.
            consumer.seek({ topic: batch.topic, partition: batch.partition, offset: messages[0].offset });
            await heartbeat();
            return;
          }
          const last = messages[messages.length - 1].offset;
          resolveOffset(last);
          const commit = handled ? handled.commitOffset : (BigInt(last) + 1n).toString();
          // With autoCommit off, commitOffsetsIfNecessary() alone never commits:
          // pass the offsets explicitly (Kafka's committed offset is the next one to read).
          if (commit !== null)
            await commitOffsetsIfNecessary({
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: commit }] }],
            });
          await heartbeat();
        },
      });
    };
    const name = `consumer ${options.groupId}`;
    const supervised = await superviseConsumer({
      name,
      create,
      start,
      logger: this.logger,
      health: this.board,
    });
    this.consumers.add(supervised);

    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        this.consumers.delete(supervised);
        // disconnect() waits for the running eachBatch to finish and leaves the group.
        await supervised.close();
      },
      health: () => ({ problem: this.board.get(name), restarts: supervised.restarts }),
    };
  }

  async topicPartitions(topic: string): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      return metadata.topics[0]?.partitions.length ?? 0;
    } finally {
      await admin.disconnect();
    }
  }

  table(spec: TableSpec): KeyedTable {
    return new KafkaKeyedTable({
      ...spec,
      kafka: this.kafka,
      logger: this.logger,
      health: this.board,
      maxRequestBytes: this.maxRequestBytes,
      giveUp: this.giveUp.signal,
    });
  }

  stopRetrying(): void {
    this.giveUp.abort();
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.close()));
    await Promise.all([...this.producers].map((p) => p.disconnect()));
    this.consumers.clear();
    this.producers.clear();
  }
}
