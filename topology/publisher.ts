import type { KeyedTable, Transport } from '../common/transport.ts';
import { TOPICS } from '../common/types.ts';
import { chunkBySize, MAX_REQUEST_BYTES, messageBytes } from '../transport/chunk.ts';
import { metaKey, metaRecord, topologyDelta, topologyRecords } from './records.ts';
import { ensureTopologyTopic, networkRecords, topologyTransport, type TopologyKafkaOptions } from './topic.ts';
import type { Topology } from './types.ts';

/**
 * Most bytes of keys and values in one produce request of the publisher: well
 * under the broker's default message.max.bytes (1 MiB), which bounds a whole
 * record batch (10,000 nodes in one request failed with MESSAGE_TOO_LARGE).
 */
export const TOPOLOGY_REQUEST_BYTES = MAX_REQUEST_BYTES;

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
 * Publishes a topology through the transport's keyed table, sending only the
 * records that differ from what the topic already holds for this network
 * (read once on connect): tombstones for what is gone, then what is new or
 * changed, in requests of at most TOPOLOGY_REQUEST_BYTES, in order on the
 * topic's one partition, with the meta record last. A follower acts on a
 * change only once meta and the records agree, so it never sees half of one,
 * nor a change whose publisher died halfway. Through a broker outage every
 * request is retried on the same idempotent producer until Kafka takes it.
 */
export class TopologyPublisher {
  private readonly options: TopologyKafkaOptions & PublisherProgress;
  private readonly topic: string;
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  private table: KeyedTable | null = null;
  private published = new Map<string, string>();

  constructor(options: TopologyKafkaOptions & PublisherProgress) {
    this.options = options;
    this.topic = options.topic ?? TOPICS.topology;
    ({ transport: this.transport, owned: this.ownsTransport } = topologyTransport(options));
  }

  async connect(): Promise<void> {
    await ensureTopologyTopic(this.transport, this.topic);
    this.table = this.transport.table({ topic: this.topic, partitions: 1 });
    this.published = networkRecords(await this.table.readToEnd(), this.options.network);
    this.published.delete(metaKey(this.options.network));
  }

  async publish(topology: Topology): Promise<PublishResult> {
    if (!this.table) throw new Error('TopologyPublisher.publish called before connect()');
    const current = topologyRecords(this.options.network, topology);
    const meta = metaRecord(topology);
    const { entries, tombstones } = topologyDelta(this.options.network, this.published, current, meta);
    const chunks = chunkBySize(entries, messageBytes, TOPOLOGY_REQUEST_BYTES);
    let sent = 0;
    for (const chunk of chunks) {
      await this.table.put(chunk);
      sent += chunk.length;
      if (chunks.length > 1) this.options.onProgress?.(sent, entries.length);
    }
    this.published = current;
    return { sent: entries.length, tombstones, version: meta.version };
  }

  /** Removes this network from the topic: a tombstone for every record it has there, meta included. */
  async retract(): Promise<number> {
    if (!this.table) throw new Error('TopologyPublisher.retract called before connect()');
    const keys = [...this.published.keys(), metaKey(this.options.network)];
    await this.table.put(keys.map((key) => ({ key, value: null })));
    this.published = new Map();
    return keys.length;
  }

  async disconnect(): Promise<void> {
    const table = this.table;
    this.table = null;
    await table?.close();
    if (this.ownsTransport) await this.transport.close();
  }
}
