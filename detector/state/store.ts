import type { KeyedTable } from '../../common/transport.ts';
import type { Logger } from '../../common/log.ts';
import { CheckpointError, decodeCheckpoint, encodeCheckpointBinary, type ClusterCheckpoint } from './checkpoint.ts';

/**
 * Where cluster checkpoints live: the compacted state topic, on Kafka or on
 * the in-process transport. `save` resolves once the checkpoints are durable;
 * `loadAll` returns the newest checkpoint of every cluster written before it
 * was called (it reads the topic to its end), or of the clusters `keep` takes.
 */
export interface ClusterCheckpointStore {
  /** Connects and creates the state topic if missing (save and loadAll do it when needed). */
  start(): Promise<void>;
  /** Encodes the checkpoints before its first await: they may share a cluster's live state (CheckpointCadence). */
  save(checkpoints: ClusterCheckpoint[]): Promise<void>;
  loadAll(keep?: (cluster: string) => boolean): Promise<Map<string, ClusterCheckpoint>>;
  close(): Promise<void>;
}

/**
 * Cluster checkpoints in a keyed table of the transport (key = cluster id),
 * so the detector keeps its state the same way on Kafka and in embedded mode.
 */
export class TableCheckpointStore implements ClusterCheckpointStore {
  constructor(
    private readonly table: KeyedTable,
    private readonly logger?: Logger,
  ) {}

  start(): Promise<void> {
    return this.table.open();
  }

  async save(checkpoints: ClusterCheckpoint[]): Promise<void> {
    await this.table.put(
      checkpoints.map((checkpoint) => ({ key: checkpoint.cluster, value: encodeCheckpointBinary(checkpoint) })),
    );
  }

  async loadAll(keep?: (cluster: string) => boolean): Promise<Map<string, ClusterCheckpoint>> {
    const out = new Map<string, ClusterCheckpoint>();
    for (const [key, value] of await this.table.readToEnd(keep)) {
      try {
        out.set(key, decodeCheckpoint(value));
      } catch (error) {
        // An unreadable checkpoint costs that cluster its warm state, never the service.
        if (!(error instanceof CheckpointError)) throw error;
        this.logger?.warn({ key, err: error.message }, 'skipping an unreadable checkpoint');
      }
    }
    return out;
  }

  close(): Promise<void> {
    return this.table.close();
  }
}
