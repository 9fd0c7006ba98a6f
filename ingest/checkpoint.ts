import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AlignerState } from './align.ts';

/**
 * Where ingest keeps its state between runs: the aligner state (last values per
 * node, open ticks) and, per input partition, the next offset that state has
 * not seen yet. Written after the batch's frames are published and before its
 * offsets are committed, so the committed offset never runs ahead of the
 * checkpoint: on restart, messages below the checkpoint's offsets are skipped
 * (already in the state), the rest are replayed into the restored state and
 * give the same frames again.
 */
export interface IngestCheckpoint {
  format: 1;
  network: string;
  /** `topic:partition` → next offset not yet reflected in `aligner`. */
  offsets: Record<string, string>;
  aligner: AlignerState;
}

export interface CheckpointStore {
  load(): IngestCheckpoint | null;
  /** Saves a checkpoint already serialized with JSON.stringify (it is serialized once per batch). */
  save(serialized: string): void;
}

export function parseCheckpoint(text: string, where: string): IngestCheckpoint {
  const parsed = JSON.parse(text) as IngestCheckpoint;
  if (parsed.format !== 1) throw new Error(`${where}: unknown checkpoint format ${String(parsed.format)}`);
  return parsed;
}

/**
 * One JSON file per network and consumer group under `<stateDir>/ingest/`,
 * replaced atomically (write + rename). The offsets in it only make sense
 * together with that group's committed offsets, hence the group in the name.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly file: string;

  constructor(stateDir: string, network: string, groupId: string) {
    this.file = join(stateDir, 'ingest', `${encodeURIComponent(network)}.${encodeURIComponent(groupId)}.checkpoint.json`);
  }

  load(): IngestCheckpoint | null {
    if (!existsSync(this.file)) return null;
    return parseCheckpoint(readFileSync(this.file, 'utf8'), this.file);
  }

  save(serialized: string): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, serialized);
    renameSync(tmp, this.file);
  }
}

/** Keeps the checkpoint in memory: embedded mode and tests. */
export class MemoryCheckpointStore implements CheckpointStore {
  private saved: string | null = null;
  load(): IngestCheckpoint | null {
    return this.saved === null ? null : parseCheckpoint(this.saved, 'memory checkpoint');
  }
  save(serialized: string): void {
    this.saved = serialized;
  }
}
