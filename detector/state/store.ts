import type { ClusterCheckpoint } from './checkpoint.ts';

/**
 * Where cluster checkpoints live: the compacted state topic on Kafka, the
 * in-process transport's topic in embedded mode. `save` resolves once the
 * checkpoints are durable; `loadAll` returns the newest checkpoint of every
 * cluster written before it was called (it reads the topic to its end).
 */
export interface CheckpointStore {
  save(checkpoints: ClusterCheckpoint[]): Promise<void>;
  loadAll(): Promise<Map<string, ClusterCheckpoint>>;
  close(): Promise<void>;
}
