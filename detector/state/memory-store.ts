import type { MemoryTransport } from '../../transport/index.ts';
import type { TransportProducer } from '../../common/transport.ts';
import type { Logger } from '../../common/log.ts';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type ClusterCheckpoint } from './checkpoint.ts';
import type { CheckpointStore } from './store.ts';

/**
 * Checkpoints on a compacted topic of the in-process transport (embedded
 * mode): the same topic, key and encoding as on Kafka, read to its end with
 * the transport's offsets. Lost with the process, like everything in memory.
 */
export class MemoryTransportCheckpointStore implements CheckpointStore {
  private producer: Promise<TransportProducer> | undefined;

  constructor(
    private readonly transport: MemoryTransport,
    private readonly topic: string,
    private readonly logger?: Logger,
  ) {}

  async save(checkpoints: ClusterCheckpoint[]): Promise<void> {
    if (checkpoints.length === 0) return;
    this.producer ??= this.transport.ensureTopics([{ topic: this.topic, partitions: 1, compact: true }]).then(() => this.transport.producer());
    const producer = await this.producer;
    await producer.send(this.topic, checkpoints.map((checkpoint) => ({ key: checkpoint.cluster, value: encodeCheckpoint(checkpoint) })));
  }

  async loadAll(): Promise<Map<string, ClusterCheckpoint>> {
    const out = new Map<string, ClusterCheckpoint>();
    this.transport.endOffsets(this.topic).forEach((end, partition) => {
      let from = 0;
      while (from < end) {
        const batch = this.transport.read(this.topic, partition, from);
        if (!batch) break;
        for (const message of batch.messages) {
          if (message.key !== null) keepNewest(out, message.key, message.value, this.logger);
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

/** Decodes a state-topic message into `into` (later offsets win); a bad message is logged and skipped. */
export function keepNewest(into: Map<string, ClusterCheckpoint>, key: string, value: Buffer, logger?: Logger): void {
  try {
    into.set(key, decodeCheckpoint(value));
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    logger?.warn({ key, err: error.message }, 'skipping an unreadable checkpoint');
  }
}
