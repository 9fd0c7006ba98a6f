import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
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
 *
 * The state grows with the network (22 MB at 100,000 nodes), so it is not
 * rewritten after every batch: a checkpoint is a full snapshot plus a journal
 * of what happened since (the readings each batch added, in order, and the
 * source moves), appended per batch. The aligner is deterministic, so the
 * snapshot with its journal replayed is the state the running process had.
 * The pipeline writes a new snapshot once the journal holds about as many
 * readings as the network has nodes, which keeps the work per reading flat.
 */
export interface IngestCheckpoint {
  format: 1;
  network: string;
  /** `topic:partition` → next offset not yet reflected in `aligner`. */
  offsets: Record<string, string>;
  aligner: AlignerState;
  /** Generation of this snapshot: only journal entries of the same generation follow it (absent = 0). */
  generation?: number;
}

/** One thing the aligner did, in the order it did it; replayed on top of the snapshot. */
export type JournalOp =
  /** Readings added from `source`, each as [node, event time, values] (late ones too: they move the source's event time). */
  | { op: 'add'; source: string; readings: Array<[string, number, Record<string, number>]> }
  | { op: 'sources'; sources: string[] }
  | { op: 'idle'; sources: string[]; upTo: number | null }
  | { op: 'advance'; ts: number };

/** What one batch (or one timer call) changed, appended after its frames were published. */
export interface JournalEntry {
  /** Generation of the snapshot this entry follows. */
  g: number;
  /** Offsets this entry moves (merged over the snapshot's). */
  offsets: Record<string, string>;
  ops: JournalOp[];
}

/** A snapshot and the journal entries written after it. */
export interface StoredCheckpoint {
  snapshot: IngestCheckpoint;
  journal: JournalEntry[];
}

export interface CheckpointStore {
  load(): StoredCheckpoint | null;
  /** Replaces the snapshot (already serialized with JSON.stringify) and starts an empty journal. */
  save(serialized: string): void;
  /** Appends one journal entry (already serialized, one line of JSON). */
  append(serializedEntry: string): void;
}

export function parseCheckpoint(text: string, where: string): IngestCheckpoint {
  const parsed = JSON.parse(text) as IngestCheckpoint;
  if (parsed.format !== 1) throw new Error(`${where}: unknown checkpoint format ${String(parsed.format)}`);
  return parsed;
}

/**
 * The journal lines that follow `snapshot`: those of its generation. Lines of
 * an older generation are left over from a crash between writing the new
 * snapshot and emptying the journal; a last line cut short by a crash while
 * appending is the batch that was never committed, so it is dropped.
 */
export function parseJournal(text: string, snapshot: IngestCheckpoint, where: string): JournalEntry[] {
  const generation = snapshot.generation ?? 0;
  const lines = text.split('\n').filter((line) => line.length > 0);
  const entries: JournalEntry[] = [];
  for (const [i, line] of lines.entries()) {
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch (error) {
      if (i === lines.length - 1) break;
      throw new Error(`${where}: line ${i + 1} is not JSON (${(error as Error).message})`, { cause: error });
    }
    if (entry.g === generation) entries.push(entry);
  }
  return entries;
}

/**
 * One JSON snapshot file per network and consumer group under
 * `<stateDir>/ingest/`, replaced atomically (write + rename), and its journal
 * beside it (`.journal`, one JSON line per batch). The offsets in it only make
 * sense together with that group's committed offsets, hence the group in the name.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly file: string;
  readonly journalFile: string;

  constructor(stateDir: string, network: string, groupId: string) {
    this.file = join(
      stateDir,
      'ingest',
      `${encodeURIComponent(network)}.${encodeURIComponent(groupId)}.checkpoint.json`,
    );
    this.journalFile = `${this.file}.journal`;
  }

  private folderMade = false;

  private makeFolder(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    this.folderMade = true;
  }

  load(): StoredCheckpoint | null {
    if (!existsSync(this.file)) return null;
    const snapshot = parseCheckpoint(readFileSync(this.file, 'utf8'), this.file);
    const journal = existsSync(this.journalFile)
      ? parseJournal(readFileSync(this.journalFile, 'utf8'), snapshot, this.journalFile)
      : [];
    return { snapshot, journal };
  }

  save(serialized: string): void {
    this.makeFolder();
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, serialized);
    renameSync(tmp, this.file);
    // The new snapshot has a new generation, so the old lines would be ignored anyway; this just frees the space.
    writeFileSync(this.journalFile, '');
  }

  append(serializedEntry: string): void {
    // Once per store, not per batch: a live stream appends many times a second.
    if (!this.folderMade) this.makeFolder();
    appendFileSync(this.journalFile, `${serializedEntry}\n`);
  }
}

/** Keeps the checkpoint in memory: embedded mode and tests. */
export class MemoryCheckpointStore implements CheckpointStore {
  private saved: string | null = null;
  private journal: string[] = [];
  load(): StoredCheckpoint | null {
    if (this.saved === null) return null;
    const snapshot = parseCheckpoint(this.saved, 'memory checkpoint');
    return { snapshot, journal: parseJournal(this.journal.join('\n'), snapshot, 'memory journal') };
  }
  save(serialized: string): void {
    this.saved = serialized;
    this.journal = [];
  }
  append(serializedEntry: string): void {
    this.journal.push(serializedEntry);
  }
  /** Lines in the journal now (tests). */
  get journalLength(): number {
    return this.journal.length;
  }
}
