/**
 * The topology on Kafka: a compacted topic (`wsn.topology`) holding, per
 * network, one record per node, one per cluster and one meta record. Keys:
 *
 *   <network>/node/<id>      {kind:'node', node, cluster}
 *   <network>/cluster/<id>   {kind:'cluster', id, centroid, partition}
 *   <network>/meta           {kind:'meta', rule, clusterOptions, version, nodes, clusters, updatedAt}
 *
 * Compaction keeps the latest value per key, and a removed node or cluster is
 * written as a tombstone (null value), so reading the topic from the start
 * always yields the current topology. The publisher sends only what changed
 * (a delta), in produce requests small enough for the broker (a large network
 * does not fit in one: 10,000 nodes failed with MESSAGE_TOO_LARGE), in order
 * on the topic's one partition, with the meta record last; the follower
 * rebuilds and announces a topology only when the version it computes equals
 * the one in meta, so it never acts on half of a change, nor on a change
 * whose publisher died halfway.
 *
 * kafkajs is used directly (not the shared Transport) because this needs
 * tombstones, the cleanup policy of an existing topic, and the high
 * watermark to know when a replay has caught up.
 */
import { randomUUID } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type Kafka, type LogEntry, type Producer } from 'kafkajs';
import { TOPICS } from '../common/types.ts';
import { createLogger, type Logger } from '../common/log.ts';
import { createTopicsAndWait } from '../transport/kafka-topics.ts';
import { exportClusters, topologyVersion } from './export.ts';
import { toEdgeRule } from './edge-rules.ts';
import { buildNetwork, networkNodes } from './network.ts';
import { compareNodeIds } from './node-order.ts';
import { partitionForCluster } from './partition.ts';
import { z } from 'zod';
import { ClusterOptionsSchema, NodeSchema, PositionSchema, ResolvedRuleSchema, restoreClustering } from './snapshot.ts';
import type { Position, SensorNode, Topology } from './types.ts';

// kafkajs is CommonJS; Node's ESM loader cannot see every named export of it
// (ConfigResourceTypes), so take them from the default export.
const { ConfigResourceTypes, Kafka: KafkaClient, Partitioners, logLevel } = kafkajs;

export interface TopologyKafkaOptions {
  brokers: string[];
  clientId?: string;
  /** Network name: the key prefix, so several networks can share the topic. */
  network: string;
  topic?: string;
  logger?: Logger;
}

/**
 * Most bytes of keys and values in one produce request of the publisher: well
 * under the broker's default message.max.bytes (1 MiB), which bounds a whole
 * record batch.
 */
export const TOPOLOGY_REQUEST_BYTES = 512 * 1024;

/** Splits records into consecutive runs of at most `limit` bytes of key + value (a larger record goes alone), keeping their order. */
export function chunkRecords<T extends { key: string; value: string | null }>(
  records: T[],
  limit: number = TOPOLOGY_REQUEST_BYTES,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    // Per-record overhead of the record batch format (varints, attributes, headers count): a few dozen bytes.
    const size = Buffer.byteLength(record.key) + (record.value === null ? 0 : Buffer.byteLength(record.value)) + 32;
    if (current.length > 0 && bytes + size > limit) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const NodeRecordSchema = z.object({ kind: z.literal('node'), node: NodeSchema, cluster: z.string().min(1) });
const ClusterRecordValueSchema = z.object({
  kind: z.literal('cluster'),
  id: z.string().min(1),
  centroid: PositionSchema,
  partition: z.number().int().nonnegative(),
});
const MetaRecordSchema = z.object({
  kind: z.literal('meta'),
  rule: ResolvedRuleSchema,
  clusterOptions: ClusterOptionsSchema,
  version: z.string(),
  nodes: z.number().int().nonnegative(),
  clusters: z.number().int().nonnegative(),
  updatedAt: z.string(),
});
const TopologyRecordSchema = z.discriminatedUnion('kind', [
  NodeRecordSchema,
  ClusterRecordValueSchema,
  MetaRecordSchema,
]);

type NodeRecord = z.infer<typeof NodeRecordSchema>;
type ClusterRecordValue = z.infer<typeof ClusterRecordValueSchema>;
type MetaRecord = z.infer<typeof MetaRecordSchema>;
type TopologyRecord = z.infer<typeof TopologyRecordSchema>;

/**
 * Parses one record value; a malformed one (not JSON, wrong shape) is logged
 * and treated as absent, so a bad message never stops a follower.
 */
export function parseTopologyRecord(key: string, text: string, logger?: Logger): TopologyRecord | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    logger?.warn({ key }, 'topology record is not JSON; ignored until it is replaced');
    return null;
  }
  const parsed = TopologyRecordSchema.safeParse(doc);
  if (!parsed.success) {
    logger?.warn(
      { key, problems: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`) },
      'topology record has the wrong shape; ignored until it is replaced',
    );
    return null;
  }
  return parsed.data;
}

function logCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const fields = { kafkajs: namespace, ...extra };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    };
}

export function createKafka(options: Pick<TopologyKafkaOptions, 'brokers' | 'clientId' | 'logger'>): Kafka {
  const logger = options.logger ?? createLogger('topology.kafka');
  return new KafkaClient({
    clientId: options.clientId ?? 'wsn-watch-topology',
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
    retry: { retries: 8, initialRetryTime: 200 },
  });
}

/**
 * Creates the topology topic with cleanup.policy=compact (one partition, so a
 * change's records stay in order), or switches an existing topic to compact.
 */
export async function ensureTopologyTopic(
  kafka: Kafka,
  topic: string = TOPICS.topology,
  logger: Logger = createLogger('topology.kafka'),
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await createTopicsAndWait(admin, [
        {
          topic,
          numPartitions: 1,
          replicationFactor: -1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ]);
      logger.info({ topic }, 'created compacted topology topic');
      return;
    }
    const policy = await cleanupPolicy(admin, topic);
    if (!policy.split(',').includes('compact')) {
      logger.warn({ topic, policy }, 'topology topic is not compacted; setting cleanup.policy=compact');
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** The topic's cleanup.policy as the broker reports it. */
export async function cleanupPolicy(admin: Admin, topic: string): Promise<string> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
  });
  return described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? '';
}

/** The records that describe a topology, by key, values as JSON text (meta excluded: it goes last). */
export function topologyRecords(network: string, topology: Topology): Map<string, string> {
  const out = new Map<string, string>();
  const { clustering } = topology;
  for (const node of networkNodes(topology.network)) {
    const record: NodeRecord = { kind: 'node', node, cluster: clustering.nodeCluster.get(node.id)! };
    out.set(`${network}/node/${node.id}`, JSON.stringify(record));
  }
  for (const cluster of clustering.clusters.values()) {
    const record: ClusterRecordValue = {
      kind: 'cluster',
      id: cluster.id,
      centroid: cluster.centroid,
      partition: partitionForCluster(cluster.id, clustering.options.partitions),
    };
    out.set(`${network}/cluster/${cluster.id}`, JSON.stringify(record));
  }
  return out;
}

/** Reads every record of `network` from the start of the topic up to its current end. */
export async function readTopologyRecords(
  kafka: Kafka,
  network: string,
  topic: string = TOPICS.topology,
): Promise<Map<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Array<{ partition: number; high: string; low: string }>;
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const records = new Map<string, string>();
  const pending = new Map(ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
  if (pending.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `wsn-topology-reader-${randomUUID()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const key = message.key?.toString('utf8');
            if (key?.startsWith(`${network}/`)) {
              if (message.value === null) records.delete(key);
              else records.set(key, message.value.toString('utf8'));
            }
            const end = pending.get(partition);
            if (end !== undefined && BigInt(message.offset) + 1n >= end) {
              pending.delete(partition);
              if (pending.size === 0) resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Rebuilds a topology from records (keys without the network prefix handled by the caller); null when incomplete. */
export function topologyFromRecords(
  network: string,
  records: ReadonlyMap<string, string>,
  logger?: Logger,
): Topology | null {
  const metaText = records.get(`${network}/meta`);
  const meta = metaText === undefined ? null : parseTopologyRecord(`${network}/meta`, metaText, logger);
  if (meta === null || meta.kind !== 'meta') return null;
  const nodes: SensorNode[] = [];
  const members = new Map<string, string[]>();
  const centroids = new Map<string, Position>();
  for (const [key, text] of records) {
    if (!key.startsWith(`${network}/`) || key === `${network}/meta`) continue;
    const record = parseTopologyRecord(key, text, logger);
    if (record === null) continue;
    if (record.kind === 'node') {
      nodes.push(record.node as SensorNode);
      const list = members.get(record.cluster) ?? [];
      list.push(record.node.id);
      members.set(record.cluster, list);
    } else if (record.kind === 'cluster') centroids.set(record.id, record.centroid);
  }
  if (nodes.length !== meta.nodes || centroids.size !== meta.clusters) return null;
  try {
    const net = buildNetwork(nodes, toEdgeRule(meta.rule));
    const clusterList = [...centroids].map(([id, centroid]) => ({
      id,
      centroid,
      members: (members.get(id) ?? []).sort(compareNodeIds),
    }));
    const clustering = restoreClustering(net, meta.clusterOptions, clusterList, `${network} on Kafka`);
    const topology: Topology = { network: net, clustering };
    return topologyVersion(topology) === meta.version ? topology : null;
  } catch (error) {
    logger?.debug({ err: error }, 'topology records not yet consistent');
    return null;
  }
}

export interface PublishResult {
  /** Records written (including meta), tombstones among them. */
  sent: number;
  tombstones: number;
  version: string;
}

export interface PublisherProgress {
  /** Called after each produce request of a change that needs several (large networks): records sent so far, of total. */
  onProgress?: (sent: number, total: number) => void;
}

/**
 * Publishes a topology, sending only the records that differ from what the
 * topic already holds for this network (read once on connect).
 */
export class TopologyPublisher {
  private readonly kafka: Kafka;
  private readonly options: TopologyKafkaOptions & PublisherProgress;
  private readonly topic: string;
  private producer: Producer | null = null;
  private published = new Map<string, string>();

  constructor(options: TopologyKafkaOptions & PublisherProgress, kafka: Kafka = createKafka(options)) {
    this.options = options;
    this.kafka = kafka;
    this.topic = options.topic ?? TOPICS.topology;
  }

  async connect(): Promise<void> {
    await ensureTopologyTopic(this.kafka, this.topic, this.options.logger);
    this.published = await readTopologyRecords(this.kafka, this.options.network, this.topic);
    this.published.delete(`${this.options.network}/meta`);
    // Not idempotent: a retried send can only repeat a key's latest value, which compaction absorbs.
    this.producer = this.kafka.producer({
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.producer.connect();
  }

  async publish(topology: Topology): Promise<PublishResult> {
    if (!this.producer) throw new Error('TopologyPublisher.publish called before connect()');
    const network = this.options.network;
    const current = topologyRecords(network, topology);
    const messages: Array<{ key: string; value: string | null }> = [];
    for (const key of [...this.published.keys()].sort()) if (!current.has(key)) messages.push({ key, value: null });
    const tombstones = messages.length;
    for (const [key, value] of [...current].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (this.published.get(key) !== value) messages.push({ key, value });
    }
    const version = topologyVersion(topology, exportClusters(topology, { denseLimit: 0 }));
    const meta: MetaRecord = {
      kind: 'meta',
      rule: topology.network.rule,
      clusterOptions: topology.clustering.options,
      version,
      nodes: topology.network.graph.order,
      clusters: topology.clustering.clusters.size,
      updatedAt: new Date().toISOString(),
    };
    messages.push({ key: `${network}/meta`, value: JSON.stringify(meta) });
    // Requests in order on the one partition; meta, last, marks the change complete.
    const chunks = chunkRecords(messages);
    let sent = 0;
    for (const chunk of chunks) {
      await this.producer.send({ topic: this.topic, acks: -1, messages: chunk });
      sent += chunk.length;
      if (chunks.length > 1) this.options.onProgress?.(sent, messages.length);
    }
    this.published = current;
    return { sent: messages.length, tombstones, version };
  }

  /** Removes this network from the topic: a tombstone for every record it has there, meta included. */
  async retract(): Promise<number> {
    if (!this.producer) throw new Error('TopologyPublisher.retract called before connect()');
    const keys = [...this.published.keys(), `${this.options.network}/meta`];
    await this.producer.send({ topic: this.topic, acks: -1, messages: keys.map((key) => ({ key, value: null })) });
    this.published = new Map();
    return keys.length;
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = null;
  }
}

export type TopologyListener = (topology: Topology, version: string) => void | Promise<void>;

/** Whether a follower is following now, and if not, why. */
export interface FollowerHealth {
  following: boolean;
  /** Why it is not following (the last error), null while it follows. */
  reason: string | null;
  /** Times its consumer was recreated after a crash kafkajs does not recover from. */
  restarts: number;
}

export interface FollowerOptions extends TopologyKafkaOptions {
  groupId?: string;
  /** First wait before recreating a crashed consumer, ms (doubles up to maxRestartBackoffMs). */
  restartBackoffMs?: number;
  maxRestartBackoffMs?: number;
  /** Consumer session timeout, ms (default 5 min): rebuilding a very large topology runs inside one batch without heartbeats, and a follower is alone in its group, so nobody waits on a long timeout. */
  sessionTimeoutMs?: number;
}

/**
 * Follows the topic and keeps the current topology of one network: replays
 * from the start (compaction keeps it short), then applies changes as they
 * arrive. `onTopology` runs each time a new consistent version appears.
 *
 * It never gives up: kafkajs restarts its consumer itself after retriable
 * errors, but a non-retriable one (e.g. "Failed to find group coordinator"
 * after a broker outage) leaves the consumer stopped for good. Then the
 * follower creates a new consumer, with a backoff doubling up to 30 s, for as
 * long as it runs; the records already read are kept. `health()` says
 * whether it follows now, so a service can fail its /readyz meanwhile.
 */
export class TopologyFollower {
  private readonly kafka: Kafka;
  private readonly options: FollowerOptions;
  private readonly topic: string;
  private readonly logger: Logger;
  private readonly groupId: string;
  private readonly records = new Map<string, string>();
  private consumer: Consumer | null = null;
  private latest: { topology: Topology; version: string } | null = null;
  private waiters: Array<{ predicate: (t: Topology, v: string) => boolean; resolve: (t: Topology) => void }> = [];
  private listener: TopologyListener | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private state: FollowerHealth = { following: false, reason: 'not started', restarts: 0 };

  constructor(options: FollowerOptions, kafka: Kafka = createKafka(options)) {
    this.options = options;
    this.kafka = kafka;
    this.topic = options.topic ?? TOPICS.topology;
    this.logger = options.logger ?? createLogger('topology.follower');
    this.groupId = options.groupId ?? `wsn-topology-follower-${randomUUID()}`;
  }

  /** The latest consistent topology, or null before one was seen. */
  current(): Topology | null {
    return this.latest?.topology ?? null;
  }

  currentVersion(): string | null {
    return this.latest?.version ?? null;
  }

  health(): FollowerHealth {
    return { ...this.state };
  }

  /** Starts following; rejects only when the first connection fails (later failures are retried forever). */
  async start(onTopology?: TopologyListener): Promise<void> {
    this.listener = onTopology;
    this.stopped = false;
    await ensureTopologyTopic(this.kafka, this.topic, this.logger);
    await this.run();
  }

  private setFollowing(following: boolean, reason: string | null): void {
    const was = this.state.following;
    this.state = { ...this.state, following, reason };
    if (following && !was && this.state.restarts > 0)
      this.logger.info(
        { network: this.options.network, restarts: this.state.restarts },
        'topology follower follows again',
      );
  }

  private async run(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 300_000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.failures = 0;
      this.setFollowing(true, null);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      const reason = `${error.name}: ${error.message}`;
      this.setFollowing(false, reason);
      // kafkajs restarts by itself when `restart` is true; otherwise this consumer is finished.
      if (!restart && consumer === this.consumer) this.scheduleRestart(reason);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      await consumer.run({
        eachBatch: (payload) => this.onBatch(payload.batch.messages, payload.resolveOffset, payload.heartbeat),
      });
    } catch (error) {
      if (this.state.restarts === 0 && this.failures === 0 && !this.latest) {
        // The very first connection: let the caller see it (a wrong broker address should fail the command).
        this.consumer = null;
        await consumer.disconnect().catch(() => undefined);
        throw error;
      }
      const reason = `${(error as Error).name}: ${(error as Error).message}`;
      this.setFollowing(false, reason);
      this.scheduleRestart(reason);
    }
  }

  private scheduleRestart(reason: string): void {
    if (this.stopped || this.restartTimer) return;
    const base = this.options.restartBackoffMs ?? 1_000;
    const delay = Math.min(base * 2 ** this.failures, this.options.maxRestartBackoffMs ?? 30_000);
    this.failures++;
    this.logger.error(
      { network: this.options.network, reason, retryInMs: delay, attempt: this.failures },
      'topology follower stopped following; a new consumer follows after a backoff',
    );
    const old = this.consumer;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopped) return;
      this.state = { ...this.state, restarts: this.state.restarts + 1 };
      void (async () => {
        await old?.disconnect().catch(() => undefined);
        if (!this.stopped) await this.run();
      })();
    }, delay);
    this.restartTimer.unref();
  }

  private async onBatch(
    messages: Array<{ key: Buffer | null; value: Buffer | null; offset: string }>,
    resolveOffset: (offset: string) => void,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const prefix = `${this.options.network}/`;
    let changed = false;
    for (const message of messages) {
      const key = message.key?.toString('utf8');
      if (key?.startsWith(prefix)) {
        if (message.value === null) this.records.delete(key);
        else this.records.set(key, message.value.toString('utf8'));
        changed = true;
      }
      resolveOffset(message.offset);
    }
    await heartbeat();
    if (!changed) return;
    const metaText = this.records.get(`${prefix}meta`);
    const meta = metaText === undefined ? null : parseTopologyRecord(`${prefix}meta`, metaText, this.logger);
    const wanted = meta?.kind === 'meta' ? meta.version : null;
    if (wanted === null || wanted === this.latest?.version) return;
    const topology = topologyFromRecords(this.options.network, this.records, this.logger);
    if (!topology) return;
    this.latest = { topology, version: wanted };
    this.logger.info(
      { network: this.options.network, version: wanted, nodes: topology.network.graph.order },
      'topology updated',
    );
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate(topology, wanted)) return true;
      w.resolve(topology);
      return false;
    });
    await this.listener?.(topology, wanted);
  }

  /** Resolves with the first topology (current or future) that satisfies the predicate. */
  waitFor(predicate: (topology: Topology, version: string) => boolean, timeoutMs = 60_000): Promise<Topology> {
    if (this.latest && predicate(this.latest.topology, this.latest.version))
      return Promise.resolve(this.latest.topology);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== wrapped);
        reject(
          new Error(
            `no matching topology on ${this.topic} within ${timeoutMs} ms (latest version ${this.latest?.version ?? 'none'})`,
          ),
        );
      }, timeoutMs);
      const wrapped = (t: Topology): void => {
        clearTimeout(timer);
        resolve(t);
      };
      this.waiters.push({ predicate, resolve: wrapped });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.disconnect();
    this.setFollowing(false, 'stopped');
  }
}
