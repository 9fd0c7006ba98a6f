import type { KeyedTable, TableEntry, TableSpec, TransportProducer } from '../common/transport.ts';
import type { MemoryTransport } from './memory.ts';
import { TOMBSTONE_HEADER } from './tombstone.ts';

export { TOMBSTONE_HEADER } from './tombstone.ts';

/**
 * A compacted topic of the in-process transport as a keyed table: the same
 * topic, keys and values as on Kafka, read to its end with the transport's
 * offsets. Lost with the process, like everything in memory.
 */
export class MemoryKeyedTable implements KeyedTable {
  readonly topic: string;
  private producer: Promise<TransportProducer> | undefined;

  constructor(
    private readonly transport: MemoryTransport,
    private readonly spec: TableSpec,
  ) {
    this.topic = spec.topic;
  }

  async open(): Promise<void> {
    this.producer ??= this.transport
      .ensureTopics([{ topic: this.topic, partitions: this.spec.partitions, compact: true }])
      .then(() => this.transport.producer());
    await this.producer;
  }

  async put(entries: TableEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.open();
    const producer = await this.producer!;
    await producer.send(
      this.topic,
      entries.map(({ key, value }) =>
        value === null ? { key, value: Buffer.alloc(0), headers: { [TOMBSTONE_HEADER]: '1' } } : { key, value },
      ),
    );
  }

  async readToEnd(keep?: (key: string) => boolean): Promise<Map<string, Buffer>> {
    await this.open();
    const out = new Map<string, Buffer>();
    this.transport.endOffsets(this.topic).forEach((end, partition) => {
      let from = 0;
      while (from < end) {
        const batch = this.transport.read(this.topic, partition, from);
        if (!batch) break;
        for (const message of batch.messages) {
          if (message.key !== null && (!keep || keep(message.key))) {
            if (message.tombstone) out.delete(message.key);
            else out.set(message.key, message.value);
          }
          from = Number(message.offset) + 1;
        }
      }
    });
    return out;
  }

  async close(): Promise<void> {
    await (await this.producer)?.close();
  }
}
