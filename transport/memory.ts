import { EventEmitter } from 'node:events';
import type {
  IncomingBatch,
  IncomingMessage,
  BatchAgain,
  BatchCommit,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  TopicSpec,
  Transport,
  TransportProducer,
  KeyedTable,
  TableSpec,
} from '../common/transport.ts';
import { createLogger, type Logger } from '../common/log.ts';
import { partitionForKey } from './partitioner.ts';
import { MemoryKeyedTable } from './memory-table.ts';
import { TOMBSTONE_HEADER } from './tombstone.ts';

/**
 * The in-process transport of embedded mode. It keeps Kafka's delivery
 * semantics that the services rely on, so code tested on it behaves the same
 * on a broker:
 *
 * - topics have partitions; a keyed message goes to `murmur2(key) % n` (the
 *   Kafka default), so one key's messages stay in order on one partition;
 * - consumer groups share partitions (round-robin over members sorted by id)
 *   and rebalance when a member joins or leaves;
 * - a group's committed offset per partition advances only after `onBatch`
 *   resolves; a rejected batch is delivered again from the committed offset
 *   (at-least-once), after a short backoff;
 * - compacted topics keep the latest message per key (older ones are skipped
 *   by readers, offsets stay stable).
 *
 * Everything lives in memory: offsets and messages are lost with the process.
 */
export interface MemoryTransportOptions {
  /** Partitions of a topic created implicitly by `send` or `subscribe`. */
  defaultPartitions?: number;
  /** Most messages handed to one onBatch call. */
  maxBatchSize?: number;
  /** Messages kept per partition before the oldest are dropped (retention). */
  retainPerPartition?: number;
  /** Wait before redelivering a batch whose onBatch rejected, in ms (doubles up to 30× this). */
  retryBackoffMs?: number;
  logger?: Logger;
}

interface StoredMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: number;
}

interface Partition {
  /** Offset of log[0]; grows when retention drops old messages. */
  base: number;
  /** Null where compaction removed a message superseded by a newer one with the same key. */
  log: (StoredMessage | null)[];
  /** Offset of the latest message per key (compacted topics only). */
  latestByKey: Map<string, number>;
}

interface Topic {
  name: string;
  compact: boolean;
  partitions: Partition[];
}

interface Group {
  id: string;
  members: Map<string, Member>;
  /** `topic:partition` → next offset to read (Kafka's committed offset). */
  committed: Map<string, number>;
  generation: number;
  /**
   * Partitions with an onBatch in progress. After a rebalance the new owner
   * waits until the old one's batch is done, as Kafka members finish their
   * batch before they give a partition up: one partition is never processed
   * by two members at once.
   */
  busy: Set<string>;
}

const tpKey = (topic: string, partition: number): string => `${topic}:${partition}`;

class Member {
  readonly id: string;
  assignment: Array<{ topic: string; partition: number }> = [];
  /** Where this member reads next per partition; falls back to the group's committed offset. */
  private readonly position = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly retryAt = new Map<string, number>();
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private rebalanced = false;

  constructor(
    id: string,
    private readonly transport: MemoryTransport,
    private readonly group: Group,
    readonly options: SubscribeOptions,
  ) {
    this.id = id;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Called by the group on every rebalance. */
  assign(assignment: Array<{ topic: string; partition: number }>): void {
    this.assignment = assignment;
    this.position.clear();
    this.rebalanced = true;
    this.notify();
  }

  notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.rebalanced) {
        this.rebalanced = false;
        await this.options.onAssignment?.(groupAssignment(this.assignment));
      }
      let delivered = false;
      let soonestRetry = Infinity;
      for (const { topic, partition } of this.assignment) {
        if (!this.running || this.rebalanced) break;
        const key = tpKey(topic, partition);
        const retryAt = this.retryAt.get(key) ?? 0;
        if (retryAt > Date.now()) {
          soonestRetry = Math.min(soonestRetry, retryAt);
          continue;
        }
        if (this.group.busy.has(key)) {
          soonestRetry = Math.min(soonestRetry, Date.now() + 5);
          continue;
        }
        const from =
          this.position.get(key) ??
          this.transport.startOffset(this.group, topic, partition, this.options.fromBeginning ?? false);
        const batch = this.transport.read(topic, partition, from);
        if (!batch) continue;
        delivered = true;
        const generation = this.group.generation;
        this.group.busy.add(key);
        let handled: void | BatchCommit | BatchAgain;
        try {
          handled = await this.options.onBatch(batch);
        } catch (error) {
          this.group.busy.delete(key);
          const failures = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, failures);
          const backoff = Math.min(
            this.transport.retryBackoffMs * 2 ** (failures - 1),
            this.transport.retryBackoffMs * 30,
          );
          this.retryAt.set(key, Date.now() + backoff);
          this.position.delete(key);
          this.transport.logger.warn(
            { err: error, topic, partition, offset: batch.messages[0]?.offset, failures },
            'onBatch failed; the batch will be delivered again',
          );
          continue;
        }
        this.group.busy.delete(key);
        this.failures.delete(key);
        this.retryAt.delete(key);
        // Not handled yet: the position stays, so the batch comes again with what followed it.
        if (handled && 'again' in handled) continue;
        const next = Number(batch.messages[batch.messages.length - 1].offset) + 1;
        // A member that lost the partition in a rebalance during onBatch must not
        // commit over its new owner's progress (Kafka rejects such a commit too).
        if (generation === this.group.generation && this.owns(topic, partition)) {
          const commit = handled ? handled.commitOffset : String(next);
          if (commit !== null) this.group.committed.set(key, Number(commit));
          this.position.set(key, next);
        }
      }
      if (!delivered && this.running && !this.rebalanced) {
        const waitMs = soonestRetry === Infinity ? 1_000 : Math.max(1, soonestRetry - Date.now());
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, waitMs);
        });
        this.wake = null;
      }
    }
  }

  private owns(topic: string, partition: number): boolean {
    return this.assignment.some((a) => a.topic === topic && a.partition === partition);
  }
}

function groupAssignment(assignment: Array<{ topic: string; partition: number }>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const { topic, partition } of assignment) (out[topic] ??= []).push(partition);
  return out;
}

export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;
  readonly logger: Logger;
  readonly retryBackoffMs: number;
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  private readonly appended = new EventEmitter();
  private readonly defaultPartitions: number;
  private readonly maxBatchSize: number;
  private readonly retainPerPartition: number;
  private memberSeq = 0;

  constructor(options: MemoryTransportOptions = {}) {
    this.defaultPartitions = options.defaultPartitions ?? 1;
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.retainPerPartition = options.retainPerPartition ?? 1_000_000;
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    this.logger = options.logger ?? createLogger('transport.memory');
    this.appended.setMaxListeners(0);
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    let added = false;
    for (const spec of specs) {
      const existing = this.topics.get(spec.topic);
      if (!existing) {
        this.createTopic(spec.topic, spec.partitions, spec.compact ?? false);
        added = true;
        continue;
      }
      // Like Kafka: partitions can be added, never removed.
      while (existing.partitions.length < spec.partitions) {
        existing.partitions.push(emptyPartition());
        added = true;
      }
      if (spec.compact) existing.compact = true;
    }
    // Like Kafka, only new partitions rebalance the groups: a topic made again as it is changes no assignment.
    if (added) for (const group of this.groups.values()) this.rebalance(group);
  }

  async producer(): Promise<TransportProducer> {
    let closed = false;
    return {
      send: async (topic, messages) => {
        if (closed) throw new Error('producer is closed');
        this.append(topic, messages);
      },
      close: async () => {
        closed = true;
      },
    };
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    for (const topic of options.topics) this.topicOrCreate(topic);
    let group = this.groups.get(options.groupId);
    if (!group) {
      group = { id: options.groupId, members: new Map(), committed: new Map(), generation: 0, busy: new Set() };
      this.groups.set(options.groupId, group);
    }
    const member = new Member(`${options.groupId}-${++this.memberSeq}`, this, group, options);
    group.members.set(member.id, member);
    const onAppend = (): void => member.notify();
    this.appended.on('append', onAppend);
    this.rebalance(group);
    member.start();
    const joined = group;
    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        this.appended.off('append', onAppend);
        await member.stop();
        joined.members.delete(member.id);
        this.rebalance(joined);
      },
      // Nothing in the process can be unreachable.
      health: () => ({ problem: null, restarts: 0 }),
    };
  }

  async topicPartitions(topic: string): Promise<number> {
    return this.topicOrCreate(topic).partitions.length;
  }

  table(spec: TableSpec): KeyedTable {
    return new MemoryKeyedTable(this, spec);
  }

  async close(): Promise<void> {
    const members = [...this.groups.values()].flatMap((g) => [...g.members.values()]);
    await Promise.all(members.map((m) => m.stop()));
    for (const group of this.groups.values()) group.members.clear();
    this.appended.removeAllListeners();
  }

  /** Committed offsets of a group (`topic:partition` → next offset), for tests and lag metrics. */
  committedOffsets(groupId: string): Record<string, number> {
    return Object.fromEntries(this.groups.get(groupId)?.committed ?? []);
  }

  /** Next offset to be written per partition of a topic. */
  endOffsets(topic: string): number[] {
    return (this.topics.get(topic)?.partitions ?? []).map((p) => p.base + p.log.length);
  }

  /** Partition count of a topic (0 when it does not exist). */
  partitionCount(topic: string): number {
    return this.topics.get(topic)?.partitions.length ?? 0;
  }

  /** Where a group member starts reading a partition it has no position for. */
  startOffset(group: Group, topic: string, partition: number, fromBeginning: boolean): number {
    const committed = group.committed.get(tpKey(topic, partition));
    const p = this.topicOrCreate(topic).partitions[partition];
    if (committed !== undefined) return Math.max(committed, p.base);
    // Kafka's auto.offset.reset: earliest with fromBeginning, latest otherwise.
    // Latest is pinned as the committed offset so later messages are not skipped.
    const start = fromBeginning ? p.base : p.base + p.log.length;
    group.committed.set(tpKey(topic, partition), start);
    return start;
  }

  /** Up to maxBatchSize live messages from `from`, or null when there are none. */
  read(topic: string, partition: number, from: number): IncomingBatch | null {
    const p = this.topicOrCreate(topic).partitions[partition];
    const messages: IncomingMessage[] = [];
    for (
      let offset = Math.max(from, p.base);
      offset < p.base + p.log.length && messages.length < this.maxBatchSize;
      offset++
    ) {
      const stored = p.log[offset - p.base];
      if (!stored) continue;
      messages.push({
        topic,
        partition,
        offset: String(offset),
        key: stored.key,
        value: stored.value,
        headers: { ...stored.headers },
        timestamp: stored.timestamp,
        ...(stored.headers[TOMBSTONE_HEADER] === '1' ? { tombstone: true } : {}),
      });
    }
    return messages.length > 0 ? { topic, partition, messages, highWatermark: String(p.base + p.log.length) } : null;
  }

  private append(topicName: string, messages: OutgoingMessage[]): void {
    const topic = this.topicOrCreate(topicName);
    let roundRobin = 0;
    for (const message of messages) {
      const index =
        message.key === null
          ? roundRobin++ % topic.partitions.length
          : partitionForKey(message.key, topic.partitions.length);
      const p = topic.partitions[index];
      const offset = p.base + p.log.length;
      p.log.push({
        key: message.key,
        value: Buffer.isBuffer(message.value) ? Buffer.from(message.value) : Buffer.from(message.value, 'utf8'),
        headers: { ...(message.headers ?? {}) },
        timestamp: message.timestamp ?? Date.now(),
      });
      if (topic.compact && message.key !== null) {
        const previous = p.latestByKey.get(message.key);
        if (previous !== undefined && previous >= p.base) p.log[previous - p.base] = null;
        p.latestByKey.set(message.key, offset);
      }
      const excess = p.log.length - this.retainPerPartition;
      if (excess > 0) {
        p.log.splice(0, excess);
        p.base += excess;
      }
    }
    this.appended.emit('append');
  }

  private topicOrCreate(name: string): Topic {
    return this.topics.get(name) ?? this.createTopic(name, this.defaultPartitions, false);
  }

  private createTopic(name: string, partitions: number, compact: boolean): Topic {
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new Error(`topic ${name}: partitions must be a positive integer, got ${partitions}`);
    const topic: Topic = { name, compact, partitions: Array.from({ length: partitions }, emptyPartition) };
    this.topics.set(name, topic);
    return topic;
  }

  /** Round-robin assignment of all subscribed partitions over the members, sorted by id. */
  private rebalance(group: Group): void {
    group.generation++;
    const members = [...group.members.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    const topics = [...new Set(members.flatMap((m) => m.options.topics))].sort();
    const next = new Map<string, Array<{ topic: string; partition: number }>>(members.map((m) => [m.id, []]));
    let i = 0;
    for (const topic of topics) {
      const interested = members.filter((m) => m.options.topics.includes(topic));
      for (let partition = 0; partition < this.topicOrCreate(topic).partitions.length; partition++) {
        const member = interested[i++ % interested.length];
        next.get(member.id)?.push({ topic, partition });
      }
    }
    for (const member of members) member.assign(next.get(member.id) ?? []);
  }
}

function emptyPartition(): Partition {
  return { base: 0, log: [], latestByKey: new Map() };
}
