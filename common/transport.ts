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
   * batch will be delivered again.
   */
  onBatch(batch: IncomingBatch): Promise<void>;
  /** Called with the partitions this member now owns, after each rebalance. */
  onAssignment?(assignment: Record<string, number[]>): void | Promise<void>;
}

export interface Subscription {
  close(): Promise<void>;
}

export interface TransportProducer {
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface Transport {
  readonly kind: 'kafka' | 'memory';
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  producer(): Promise<TransportProducer>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
  /**
   * What is down right now (a consumer being rebuilt after a broker outage, a
   * send waiting for the broker), one line each; empty when all works.
   * Services fail `/readyz` while it is not empty.
   */
  health?(): string[];
}
