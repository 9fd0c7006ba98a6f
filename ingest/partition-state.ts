import { randomBytes } from 'node:crypto';
import type { KeyedTable, TableEntry } from '../common/transport.ts';
import type { AlignerState } from './align.ts';

/** Partitions of the per-partition ingest state topic (ingest.stateTopic) when ingest creates it. */
export const INGEST_STATE_PARTITIONS = 6;

/**
 * The aligner state of one readings partition, as a consumer group saves it:
 * everything the partition's readings made of it up to `offset` (the next
 * offset not yet in it). Whoever owns the partition next loads it and reads on
 * from there; the group's committed offset never runs ahead of it.
 */
export interface PartitionState {
  format: 1;
  network: string;
  /** `topic:partition` of the readings. */
  source: string;
  offset: string;
  aligner: AlignerState;
}

/**
 * Most characters of one record: a partition's state grows with its nodes
 * (about 3.7 MB per partition at 100,000 nodes on 6 partitions), more than
 * Kafka takes in one message, so it is written as numbered pieces.
 */
const PIECE_CHARS = 256 * 1024;

/**
 * The head record of a saved state: which generation of pieces holds it. A
 * generation is unique to one save (time and random), so two processes that
 * both believe they own a partition (one stalled longer than kafka.sessionTimeoutMs) never
 * write the same piece keys: the head always points at whole pieces of one save.
 */
interface StateHead {
  generation: string;
  pieces: number;
}

const newGeneration = (): string => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

/**
 * Per-partition ingest state on a compacted keyed table, one head key per
 * network, group and partition (`<network>/<group>/<topic>:<partition>`) and
 * its pieces (`…#<generation>.<i>`). A save writes the new pieces, then the
 * head that points at them, then tombstones the previous pieces, in one
 * ordered put: a reader sees either the old state or the new one, whole.
 */
export class PartitionStateStore {
  /** Head of the last save or load per key, for the tombstones of the next save. */
  private readonly heads = new Map<string, StateHead>();

  constructor(
    private readonly table: KeyedTable,
    private readonly network: string,
    private readonly group: string,
  ) {}

  key(source: string): string {
    return `${encodeURIComponent(this.network)}/${encodeURIComponent(this.group)}/${source}`;
  }

  /** The saved states of `sources` (absent: never saved), read after every earlier write. */
  async load(sources: string[]): Promise<Map<string, PartitionState>> {
    const all = await this.table.readToEnd();
    const out = new Map<string, PartitionState>();
    for (const source of sources) {
      const key = this.key(source);
      const head = all.get(key);
      if (!head) continue;
      const parsed = JSON.parse(head.toString('utf8')) as StateHead;
      const text: string[] = [];
      for (let i = 0; i < parsed.pieces; i++) {
        const piece = all.get(`${key}#${parsed.generation}.${i}`);
        if (!piece) throw new Error(`ingest state ${key}: piece ${i} of generation ${parsed.generation} is missing`);
        text.push(piece.toString('utf8'));
      }
      const state = JSON.parse(text.join('')) as PartitionState;
      if (state.format !== 1) throw new Error(`ingest state ${key}: unknown format ${String(state.format)}`);
      this.heads.set(key, parsed);
      out.set(source, state);
    }
    return out;
  }

  /** Saves one partition's state; resolves once it is durable. */
  async save(state: PartitionState): Promise<void> {
    const key = this.key(state.source);
    const previous = this.heads.get(key);
    const generation = newGeneration();
    const text = JSON.stringify(state);
    const entries: TableEntry[] = [];
    for (let at = 0, i = 0; at < text.length || i === 0; at += PIECE_CHARS, i++)
      entries.push({ key: `${key}#${generation}.${i}`, value: text.slice(at, at + PIECE_CHARS) });
    const head: StateHead = { generation, pieces: entries.length };
    entries.push({ key, value: JSON.stringify(head) });
    for (let i = 0; i < (previous?.pieces ?? 0); i++)
      entries.push({ key: `${key}#${previous!.generation}.${i}`, value: null });
    await this.table.put(entries);
    this.heads.set(key, head);
  }

  /** Forgets what it knew of a partition this process no longer owns (its next owner writes the next generation). */
  forget(source: string): void {
    this.heads.delete(this.key(source));
  }
}
