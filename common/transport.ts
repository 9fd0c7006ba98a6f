/**
 * The message transport between wsn-watch services. Kafka (kafkajs) in
 * production; an in-process implementation in embedded mode. Nothing above
 * this interface knows which one it runs on.
 */

export interface OutgoingMessage {
  key: string | null;
  value: Buffer | string;
  headers?: Record<string, string>;
  /** Event time, UTC ms; defaults to now. */
  timestamp?: number;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  /** Offset as a decimal string (Kafka offsets exceed 2^53). */
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: number;
  /**
   * True when the message deletes its key from a compacted topic (on Kafka a
   * null value; `value` is then empty). Written through `KeyedTable.put`.
   */
  tombstone?: boolean;
}

/** Messages of one partition, in offset order. */
export interface IncomingBatch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
  /**
   * The partition's end offset (next offset to be written) when the batch was
   * fetched, as a decimal string, when the transport knows it: a consumer is
   * caught up when the batch's last offset + 1 reaches it.
   */
  highWatermark?: string;
  /**
   * Tells the group this member is alive (the Kafka transport; a call within
   * the heartbeat interval of the last one sends nothing). Kafka expels a
   * member that is silent for its session timeout and hands its partitions
   * to another, so a handler that works on one hand-over for long (runs of
   * frames, checkpoints) calls it between its steps.
   */
  heartbeat?(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Log compaction (for `wsn.topology` and state topics). */
  compact?: boolean;
}

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /**
   * Handles one batch. Offsets of the batch are committed only after the
   * returned promise resolves (at-least-once delivery); a rejection means the
   * batch will be delivered again. By default the offset after the batch is
   * committed; a handler that keeps its state elsewhere and saves it only now
   * and then returns the offset its saved state has reached instead (see
   * BatchCommit), so that a new owner of the partition starts there. A
   * handler that waits for more messages before it works on any returns
   * BatchAgain: the batch comes again, with what followed it.
   */
  onBatch(batch: IncomingBatch): Promise<void | BatchCommit | BatchAgain>;
  /** Called with the partitions this member now owns, after each rebalance. */
  onAssignment?(assignment: Record<string, number[]>): void | Promise<void>;
  /**
   * How long the broker may hold a fetch for more messages (ms; unset or 0:
   * answer with whatever has come). A stream of small messages then arrives
   * in batches of about this much time instead of a few messages each, so a
   * handler's per-batch work (commits, journals) is paid that much less
   * often. A hint: the in-process transport delivers at once.
   */
  batchWaitMs?: number;
  /**
   * How many partitions' batches may be in `onBatch` at once (default 1: one
   * at a time). A handler that merges the batches it holds (the detector)
   * wants several; each is still committed on its own.
   */
  concurrentPartitions?: number;
  /** Most bytes one fetch brings of a partition (the Kafka transport; default the transport's). */
  maxBytesPerPartition?: number;
  /** Most bytes one fetch brings in all (the Kafka transport; default 10 MiB). */
  maxBytes?: number;
}

/** What to commit after a batch, when not the offset after it. */
export interface BatchCommit {
  /** Next offset to commit for the batch's partition (decimal string); null commits nothing this time. */
  commitOffset: string | null;
}

/**
 * A batch not handled yet, to come again from its first message together with
 * the messages that followed it (nothing is committed). For a handler that
 * wants a fuller batch: the transport fetches again at once, so the handler
 * waits before it answers.
 */
export interface BatchAgain {
  again: true;
}

/** Whether a subscription is consuming now, and if not, why. */
export interface SubscriptionHealth {
  /** What keeps it from consuming (its consumer crashed and is being rebuilt, …); null while it consumes. */
  problem: string | null;
  /** Times its consumer was rebuilt after the client gave up on it. */
  restarts: number;
}

export interface Subscription {
  close(): Promise<void>;
  /** This subscription's part of `Transport.health()`. */
  health?(): SubscriptionHealth;
}

export interface TransportProducer {
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** One write to a keyed table: a value, or null to delete the key (a tombstone). */
export interface TableEntry {
  key: string;
  value: Buffer | string | null;
}

/**
 * A compacted, keyed topic read as a table: the newest value of every key.
 * What state storage needs (cluster checkpoints, topology versions): writes
 * that are durable when `put` resolves, and a read that sees every write made
 * before it. Works the same on Kafka and on the in-process transport.
 */
export interface KeyedTable {
  readonly topic: string;
  /** Creates the compacted topic if missing and connects; called by put/readToEnd when needed. */
  open(): Promise<void>;
  /** Writes entries in order; resolves once they are durable. */
  put(entries: TableEntry[]): Promise<void>;
  /**
   * The newest value of every key written before the call (reads the topic to
   * its end); deleted keys are absent, and with `keep` so are the keys it turns down.
   */
  readToEnd(keep?: (key: string) => boolean): Promise<Map<string, Buffer>>;
  close(): Promise<void>;
}

export interface TableSpec {
  topic: string;
  /** Partitions when the topic has to be created. */
  partitions: number;
  /**
   * Whether a background reader keeps the newest value of every key between
   * reads (default true: reads are quick, memory holds the whole table).
   * false: each read reads the topic from its start; for large tables read
   * rarely, and only in part.
   */
  mirror?: boolean;
}

export interface Transport {
  readonly kind: 'kafka' | 'memory';
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  producer(): Promise<TransportProducer>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Partitions the topic has now (it must exist). */
  topicPartitions(topic: string): Promise<number>;
  /** A compacted topic as a keyed table (see KeyedTable). */
  table(spec: TableSpec): KeyedTable;
  close(): Promise<void>;
  /**
   * From now on, a send or table write that cannot reach the broker fails at
   * its next retry instead of waiting for it: a stopping service whose stop
   * timeout has passed gives up what Kafka has not taken.
   */
  stopRetrying?(): void;
  /**
   * What is down right now (a consumer being rebuilt after a broker outage, a
   * send waiting for the broker), one line each; empty when all works.
   * Services fail `/readyz` while it is not empty.
   */
  health?(): string[];
}
