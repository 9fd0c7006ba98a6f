/**
 * The sudden jumps' per-reading statistics of one cluster (jumps.ts), packed:
 * one slot per node and modality, each field a typed array over the slots,
 * the size weights' dense lists as regions of one shared arena.
 *
 * Held as an object per reading (its last readings and gaps, two weight
 * lists and their holders) the statistics were most of a 100,000-node
 * detector's live heap, about 1 KB per node and modality, and all of it for
 * the garbage collector to trace (docs/benchmarks.md, "What a 100,000-node
 * replica holds"). Here they are a few array buffers per cluster.
 *
 * Each list has a region with room to spare (LIST_SLACK). A list whose
 * bucket range changes is rewritten in its region, the old weights saved for
 * an undo in a buffer of the batch; one that outgrows its region moves to a
 * new one at the arena's end, the old region left as it was until the arena
 * is compacted, which happens only while no batch may be rolled back. So an
 * undo of a batch (undo-log.ts) puts back a list's fields and weights.
 *
 * What learning a reading changes while a batch may be rolled back is
 * journalled here, reading by reading, in one growing array of numbers
 * rather than an undo closure and copied objects per reading: every reading
 * of every tick is learnt, and those were most of what the detector allocated
 * outside the model.
 */
import { medianOfSorted } from '../../common/median.ts';
import type { Modality, NodeId } from '../../common/types.ts';
import {
  addNewSize,
  planLearn,
  usualOfList,
  writeReplacement,
  type FadingSizes,
  type LearnPlan,
} from './size-weights.ts';
import {
  FIELD_GAPS,
  FIELD_MODALITY,
  FIELD_RECENT,
  FIELD_SEEN,
  FIELD_SINCE_JUMP,
  FIELD_SIZES,
  FIELD_STEP,
  READING_FIELDS,
  SIZES_FIELDS,
  type PackedJumps,
} from './packed-jumps.ts';
import { canonicalModalities } from './packed-readings.ts';
import type { Undo } from './undo-log.ts';

/** Readings whose median is the node's recent level. */
export const RECENT_READINGS = 5;
/** Slots of a new store; it doubles as nodes come. */
const FIRST_SLOTS = 16;
/** The arena is compacted once its garbage is more than this and more than a quarter of what lives. */
const COMPACT_ABOVE = 4_096;
/** Places a list's region has beyond its length when it is made: a list widens a bucket at a time. */
const LIST_SLACK = 4;
/** The journal is cut back to a frame's readings once it holds more than this many frames' worth. */
const JOURNAL_SHRINK_ABOVE = 4;
/** How much the arena grows by when full. */
const ARENA_GROWTH = 1.25;

// A journal record: the reading's slot, its step and seen before; per list (recent, gaps) whether a value was pushed
// and the one that left; per kind of sizes (JUMPS, GAP_JUMPS) whether one was learnt and the list's fields before,
// where a weight was changed in place and its value before, and where the list's old weights were saved.
const RECORD_SLOT = 0;
const RECORD_STEP = 1;
const RECORD_SEEN = 2;
const RECORD_RECENT = 3;
const RECORD_GAPS = 5;
const RECORD_SIZES = 7;
const SIZES_LEARNT = 0;
const SIZES_ZERO = 1;
const SIZES_LOW = 2;
const SIZES_UNIT = 3;
const SIZES_OFFSET = 4;
const SIZES_LENGTH = 5;
const SIZES_ROOM = 6;
/** The arena index of a weight changed in place (−1: none). */
const SIZES_IN_PLACE = 7;
const SIZES_BEFORE = 8;
/** Where the list's old weights were saved (−1: the list was not rewritten in its region). */
const SIZES_SAVED = 9;
const SIZES_RECORD = 10;
const RECORD = RECORD_SIZES + 2 * SIZES_RECORD;

/** Scratch for recentMedian: one list of at most RECENT_READINGS values at a time. */
const recentScratch = new Float64Array(RECENT_READINGS);

/** The two size-weight lists of a slot: its jumps and its gap changes. */
export const JUMPS = 0;
export const GAP_JUMPS = 1;
export type SizesKind = typeof JUMPS | typeof GAP_JUMPS;

/** One reading's fields as a checkpoint holds them (JumpStateJson of jumps.ts). */
export interface SlotJson {
  recent: number[];
  gaps: number[];
  step: number;
  seen: number;
  jumps: FadingSizes;
  gapJumps: FadingSizes;
  sinceJump: number | null;
}

export class JumpSlots {
  private capacity = FIRST_SLOTS;
  /** Slots ever handed out; freed ones are reused. */
  private used = 0;
  private readonly free: number[] = [];
  /** Slots freed while a batch could still be rolled back: reused only once it cannot. */
  private pendingFree: number[] = [];
  /** Per node, its (modality id, slot) pairs in the order the modalities came. */
  private readonly nodes = new Map<NodeId, number[]>();
  private readonly modalityIds = new Map<Modality, number>();
  private readonly modalityNames: Modality[] = [];

  private recent = new Float64Array(FIRST_SLOTS * RECENT_READINGS);
  private recentCount = new Uint8Array(FIRST_SLOTS);
  private gaps = new Float64Array(FIRST_SLOTS * RECENT_READINGS);
  private gapCount = new Uint8Array(FIRST_SLOTS);
  /** Smallest change seen between two readings (0: none yet). */
  step = new Float64Array(FIRST_SLOTS);
  /** Readings learnt so far. */
  seen = new Float64Array(FIRST_SLOTS);
  /** Frames since the reading last jumped by a third of the multiple (NaN: not yet). */
  sinceJump = new Float64Array(FIRST_SLOTS);
  // Per slot and kind (index 2 · slot + kind): the weights' zero bucket, lowest bucket, unit, and list region.
  private zero = new Float64Array(2 * FIRST_SLOTS);
  private low = new Float64Array(2 * FIRST_SLOTS);
  private unit = new Float64Array(2 * FIRST_SLOTS);
  private offset = new Float64Array(2 * FIRST_SLOTS);
  private length = new Float64Array(2 * FIRST_SLOTS);
  private room = new Float64Array(2 * FIRST_SLOTS);
  private arena = new Float64Array(1_024);
  /** The weights of lists rewritten in their region during the batch, for its undo (or a scratch without one). */
  private saved = new Float64Array(256);
  private savedEnd = 0;
  private arenaEnd = 0;
  private arenaGarbage = 0;
  private compactions = 0;
  /**
   * What the batch's learnt readings changed, a record of RECORD numbers per reading. Sized to the readings of the
   * batch (a frame: one per slot), not to a round number: held by every cluster between batches.
   */
  private journal = new Float64Array(0);
  private journalLength = 0;
  /** Where the record of the reading being learnt starts (−1: none is journalled). */
  private journalling = -1;

  /** Bytes of the typed arrays, and how often the arena was compacted (for benchmarks and tests). */
  footprint(): { bytes: number; journalBytes: number; compactions: number; slots: number } {
    const arrays = [
      this.recent,
      this.recentCount,
      this.gaps,
      this.gapCount,
      this.step,
      this.seen,
      this.sinceJump,
      this.zero,
      this.low,
      this.unit,
      this.offset,
      this.length,
      this.room,
      this.arena,
      this.saved,
      this.journal,
    ];
    const bytes = arrays.reduce((sum, array) => sum + array.byteLength, 0);
    return { bytes, journalBytes: this.journal.byteLength, compactions: this.compactions, slots: this.slotsInUse() };
  }

  private slotsInUse(): number {
    return this.used - this.free.length - this.pendingFree.length;
  }

  /** The node's slot of a modality (undefined: none). */
  slotOf(node: NodeId, modality: Modality): number | undefined {
    const pairs = this.nodes.get(node);
    const id = this.modalityIds.get(modality);
    if (!pairs || id === undefined) return undefined;
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === id) return pairs[i + 1];
    return undefined;
  }

  /** The node's slot of a modality, made when missing; with a log, a slot made is taken back on undo. */
  slotFor(node: NodeId, modality: Modality, log: Undo[] | undefined): number {
    const found = this.slotOf(node, modality);
    if (found !== undefined) return found;
    let id = this.modalityIds.get(modality);
    if (id === undefined) {
      id = this.modalityNames.length;
      this.modalityIds.set(modality, id);
      this.modalityNames.push(modality);
    }
    const slot = this.allocate();
    let pairs = this.nodes.get(node);
    const newNode = pairs === undefined;
    if (!pairs) {
      pairs = [];
      this.nodes.set(node, pairs);
    }
    pairs.push(id, slot);
    log?.push(() => {
      if (newNode) this.nodes.delete(node);
      else pairs.length -= 2;
      this.free.push(slot);
    });
    return slot;
  }

  /** Every slot in use, for what runs over all of them. */
  forEachSlot(visit: (slot: number) => void): void {
    for (const pairs of this.nodes.values()) for (let i = 1; i < pairs.length; i += 2) visit(pairs[i]);
  }

  /** Forgets the nodes not in `keep`; with a log, each is put back on undo. */
  keepOnly(keep: ReadonlySet<NodeId>, log: Undo[] | undefined): void {
    for (const [node, pairs] of this.nodes) {
      if (keep.has(node)) continue;
      this.nodes.delete(node);
      const freed = pairs.filter((_, i) => i % 2 === 1);
      if (!log) {
        this.release(freed);
        continue;
      }
      this.pendingFree.push(...freed);
      log.push(() => {
        this.nodes.set(node, pairs);
        this.pendingFree = this.pendingFree.filter((slot) => !freed.includes(slot));
      });
    }
  }

  /** The batch can no longer be rolled back: slots freed in it may be reused, and the arena compacted. */
  settle(): void {
    this.release(this.pendingFree);
    this.pendingFree = [];
    this.savedEnd = 0;
    this.journalLength = 0;
    // A batch of many frames (a backlog) grew the journal; a frame's readings are what the next batches need.
    if (this.journal.length > JOURNAL_SHRINK_ABOVE * RECORD * this.slotsInUse())
      this.journal = new Float64Array(RECORD * this.slotsInUse());
    const living = this.arenaEnd - this.arenaGarbage;
    if (this.arenaGarbage > COMPACT_ABOVE && this.arenaGarbage > living / 4) this.compact();
  }

  /**
   * Journals what learning the slot's reading changes from here to endReading (its lists pushed, sizes learnt, and
   * its step and seen, which the learner sets directly), for rewindJournal.
   */
  journalReading(slot: number): void {
    if ((this.journalLength + 1) * RECORD > this.journal.length) {
      const records = Math.max((2 * this.journal.length) / RECORD, this.journalLength + this.slotsInUse());
      const grown = new Float64Array(records * RECORD);
      grown.set(this.journal);
      this.journal = grown;
    }
    const at = this.journalLength++ * RECORD;
    this.journal.fill(0, at, at + RECORD);
    this.journal[at + RECORD_SLOT] = slot;
    this.journal[at + RECORD_STEP] = this.step[slot];
    this.journal[at + RECORD_SEEN] = this.seen[slot];
    this.journalling = at;
  }

  /** The reading is learnt: nothing more goes in its record. */
  endReading(): void {
    this.journalling = -1;
  }

  /** Readings journalled so far in the batch (the mark rewindJournal takes). */
  journalMark(): number {
    return this.journalLength;
  }

  /** Takes back the readings journalled from `mark` on, newest first, and forgets them. */
  rewindJournal(mark: number): void {
    const { journal } = this;
    for (let r = this.journalLength - 1; r >= mark; r--) {
      const at = r * RECORD;
      const slot = journal[at + RECORD_SLOT];
      if (journal[at + RECORD_RECENT]) this.unpushLast(slot, 'recent', journal[at + RECORD_RECENT + 1]);
      if (journal[at + RECORD_GAPS]) this.unpushLast(slot, 'gaps', journal[at + RECORD_GAPS + 1]);
      this.putBackSizes(slot, GAP_JUMPS, at + RECORD_SIZES + GAP_JUMPS * SIZES_RECORD);
      this.putBackSizes(slot, JUMPS, at + RECORD_SIZES + JUMPS * SIZES_RECORD);
      this.step[slot] = journal[at + RECORD_STEP];
      this.seen[slot] = journal[at + RECORD_SEEN];
    }
    this.journalLength = Math.min(this.journalLength, mark);
  }

  /**
   * The median of the slot's last readings or gaps (NaN: none), as common/median.ts gives it, sorted in a scratch
   * buffer: it runs twice per reading.
   */
  recentMedian(slot: number, list: 'recent' | 'gaps'): number {
    const values = this[list];
    const base = slot * RECENT_READINGS;
    const count = list === 'recent' ? this.recentCount[slot] : this.gapCount[slot];
    for (let i = 0; i < count; i++) {
      const value = values[base + i];
      let j = i;
      for (; j > 0 && recentScratch[j - 1] > value; j--) recentScratch[j] = recentScratch[j - 1];
      recentScratch[j] = value;
    }
    return medianOfSorted(count, (i) => recentScratch[i]);
  }

  /** How many last readings or gaps the slot holds. */
  count(slot: number, list: 'recent' | 'gaps'): number {
    return list === 'recent' ? this.recentCount[slot] : this.gapCount[slot];
  }

  /** The slot's newest reading (undefined: none). */
  lastReading(slot: number): number | undefined {
    const count = this.recentCount[slot];
    return count === 0 ? undefined : this.recent[slot * RECENT_READINGS + count - 1];
  }

  /** Appends a value to the slot's last readings or gaps, keeping RECENT_READINGS (journalled: journalReading). */
  pushLast(slot: number, list: 'recent' | 'gaps', value: number): void {
    const values = this[list];
    const counts = list === 'recent' ? this.recentCount : this.gapCount;
    const base = slot * RECENT_READINGS;
    const count = counts[slot];
    let dropped = Number.NaN;
    if (count < RECENT_READINGS) {
      values[base + count] = value;
      counts[slot] = count + 1;
    } else {
      dropped = values[base];
      values.copyWithin(base, base + 1, base + RECENT_READINGS);
      values[base + RECENT_READINGS - 1] = value;
    }
    const at = this.journalling;
    if (at < 0) return;
    const field = at + (list === 'recent' ? RECORD_RECENT : RECORD_GAPS);
    this.journal[field] = 1;
    this.journal[field + 1] = dropped;
  }

  /** Takes back a pushLast: the value pushed goes, the one that left (NaN: none) comes back. */
  private unpushLast(slot: number, list: 'recent' | 'gaps', dropped: number): void {
    const values = this[list];
    const counts = list === 'recent' ? this.recentCount : this.gapCount;
    const base = slot * RECENT_READINGS;
    if (Number.isNaN(dropped)) {
      counts[slot] -= 1;
      return;
    }
    values.copyWithin(base + 1, base, base + RECENT_READINGS - 1);
    values[base] = dropped;
  }

  /** The USUAL_QUANTILE of a slot's sizes of a kind (0: none). */
  usualSize(slot: number, kind: SizesKind): number {
    const k = 2 * slot + kind;
    return usualOfList(this.zero[k], this.low[k], this.unit[k], this.arena, this.offset[k], this.length[k]);
  }

  /**
   * Learns a size into a slot's weights of a kind (size-weights.ts). While a reading is journalled, what it changed is
   * in its record, and a list rewritten in its region has its old weights saved until the batch is settled.
   */
  learnSize(slot: number, kind: SizesKind, size: number): void {
    const k = 2 * slot + kind;
    const zero = this.zero[k];
    const low = this.low[k];
    const unit = this.unit[k];
    const offset = this.offset[k];
    const length = this.length[k];
    const journalled = this.journalling >= 0;
    const record = this.journalling + RECORD_SIZES + kind * SIZES_RECORD;
    const { journal } = this;
    if (journalled) {
      journal[record + SIZES_LEARNT] = 1;
      journal[record + SIZES_ZERO] = zero;
      journal[record + SIZES_LOW] = low;
      journal[record + SIZES_UNIT] = unit;
      journal[record + SIZES_OFFSET] = offset;
      journal[record + SIZES_LENGTH] = length;
      journal[record + SIZES_ROOM] = this.room[k];
      journal[record + SIZES_IN_PLACE] = -1;
      journal[record + SIZES_SAVED] = -1;
    }
    const p = planLearn(zero, low, unit, this.arena, offset, length, size);
    if (p.replace) {
      const saved = this.rewrite(k, p, offset, length, low, journalled);
      if (journalled) journal[record + SIZES_SAVED] = saved;
    } else if (p.bucket > 0) {
      const inPlace = offset + p.bucket - low;
      if (journalled) {
        journal[record + SIZES_IN_PLACE] = inPlace;
        journal[record + SIZES_BEFORE] = this.arena[inPlace];
      }
      addNewSize(p, this.arena, offset);
    }
    this.zero[k] = p.zero;
    this.low[k] = p.to > p.from ? p.from : low;
    this.unit[k] = p.unit;
    if (p.to <= p.from) this.length[k] = 0;
  }

  /**
   * Writes a list's new range: in its region when it fits (its old weights saved first), else in a new region. Returns
   * where the old weights were kept for the batch's undo (−1: not kept).
   */
  private rewrite(k: number, p: LearnPlan, offset: number, length: number, low: number, keep: boolean): number {
    const size = p.to - p.from;
    let kept = -1;
    if (size <= this.room[k]) {
      const at = this.save(offset, length, keep);
      if (keep) kept = at;
      writeReplacement(p, low, this.saved, at, this.arena, offset);
    } else {
      const room = size + LIST_SLACK;
      const at = this.claim(room);
      // claim may have grown the arena: the old region is read from the new one, at the same offset.
      writeReplacement(p, low, this.arena, offset, this.arena, at);
      this.arenaGarbage += this.room[k];
      this.offset[k] = at;
      this.room[k] = room;
    }
    this.length[k] = size;
    return kept;
  }

  /** Copies a region's weights to the saved buffer: kept for the batch's undo, or scratch (overwritten next time). */
  private save(offset: number, length: number, keep: boolean): number {
    const at = keep ? this.savedEnd : 0;
    if (at + length > this.saved.length) {
      const larger = new Float64Array(Math.max(2 * this.saved.length, at + length));
      larger.set(this.saved.subarray(0, at));
      this.saved = larger;
    }
    this.saved.set(this.arena.subarray(offset, offset + length), at);
    if (keep) this.savedEnd = at + length;
    return at;
  }

  /** Takes back a learnSize of a slot's kind from the journal record of its sizes at `record` (if one was learnt). */
  private putBackSizes(slot: number, kind: SizesKind, record: number): void {
    const { journal } = this;
    if (!journal[record + SIZES_LEARNT]) return;
    const k = 2 * slot + kind;
    const offset = journal[record + SIZES_OFFSET];
    const length = journal[record + SIZES_LENGTH];
    const room = journal[record + SIZES_ROOM];
    // A list moved to a new region leaves that region as garbage, and its old one lives once more.
    if (this.offset[k] !== offset) this.arenaGarbage += this.room[k] - room;
    this.zero[k] = journal[record + SIZES_ZERO];
    this.low[k] = journal[record + SIZES_LOW];
    this.unit[k] = journal[record + SIZES_UNIT];
    this.offset[k] = offset;
    this.length[k] = length;
    this.room[k] = room;
    const saved = journal[record + SIZES_SAVED];
    if (saved >= 0) this.arena.set(this.saved.subarray(saved, saved + length), offset);
    const inPlace = journal[record + SIZES_IN_PLACE];
    if (inPlace >= 0) this.arena[inPlace] = journal[record + SIZES_BEFORE];
  }

  /** A slot's reading as a checkpoint holds it. */
  toJson(slot: number): SlotJson {
    const base = slot * RECENT_READINGS;
    const since = this.sinceJump[slot];
    return {
      recent: listOf(this.recent, base, this.recentCount[slot]),
      gaps: listOf(this.gaps, base, this.gapCount[slot]),
      step: this.step[slot],
      seen: this.seen[slot],
      jumps: this.sizesJson(2 * slot + JUMPS),
      gapJumps: this.sizesJson(2 * slot + GAP_JUMPS),
      sinceJump: Number.isNaN(since) ? null : since,
    };
  }

  /** Every node's readings by modality, as a checkpoint holds them. */
  entries(): Array<[NodeId, Array<[Modality, SlotJson]>]> {
    return [...this.nodes].map(([node, pairs]) => {
      const readings: Array<[Modality, SlotJson]> = [];
      for (let i = 0; i < pairs.length; i += 2)
        readings.push([this.modalityNames[pairs[i]], this.toJson(pairs[i + 1])]);
      return [node, readings];
    });
  }

  /** Sets a new slot's fields from a checkpoint's reading (the last RECENT_READINGS of its lists). */
  restore(slot: number, reading: SlotJson): void {
    const base = slot * RECENT_READINGS;
    const recent = reading.recent.slice(-RECENT_READINGS);
    const gaps = reading.gaps.slice(-RECENT_READINGS);
    this.recent.set(recent, base);
    this.recentCount[slot] = recent.length;
    this.gaps.set(gaps, base);
    this.gapCount[slot] = gaps.length;
    this.step[slot] = reading.step;
    this.seen[slot] = reading.seen;
    this.sinceJump[slot] = reading.sinceJump ?? Number.NaN;
    for (const [kind, sizes] of [
      [JUMPS, reading.jumps],
      [GAP_JUMPS, reading.gapJumps],
    ] as const)
      this.setSizes(2 * slot + kind, sizes.zero, sizes.low, sizes.unit, sizes.weights);
  }

  /** Every slot in the packed checkpoint form (packed-jumps.ts): nodes and modalities in code-unit order. */
  pack(): PackedJumps {
    const { modalities, rank } = canonicalModalities(this.modalityNames);
    const nodes = [...this.nodes.keys()].sort();
    const readings = new Float64Array(nodes.length);
    // Each node's slots in the order of their modalities' ranks; the values' total on the way.
    // Pairs (rank, slot), each node's inserted in rank order as they come: a node has a handful of modalities, and a
    // sorted list of pairs per node was most of what packing allocated.
    const ordered: number[] = [];
    let valueCount = 0;
    nodes.forEach((node, n) => {
      const pairs = this.nodes.get(node) as number[];
      const start = ordered.length;
      for (let i = 0; i < pairs.length; i += 2) {
        const r = rank[pairs[i]];
        const slot = pairs[i + 1];
        let j = ordered.length;
        ordered.push(r, slot);
        for (; j > start && ordered[j - 2] > r; j -= 2) {
          ordered[j] = ordered[j - 2];
          ordered[j + 1] = ordered[j - 1];
        }
        ordered[j] = r;
        ordered[j + 1] = slot;
        valueCount += this.recentCount[slot] + this.gapCount[slot] + this.length[2 * slot] + this.length[2 * slot + 1];
      }
      readings[n] = (ordered.length - start) / 2;
    });
    const fields = new Float64Array((ordered.length / 2) * READING_FIELDS);
    const values = new Float64Array(valueCount);
    let at = 0;
    for (let i = 0; i < ordered.length; i += 2) {
      const slot = ordered[i + 1];
      const f = (i / 2) * READING_FIELDS;
      fields[f + FIELD_MODALITY] = ordered[i];
      fields[f + FIELD_RECENT] = this.recentCount[slot];
      fields[f + FIELD_GAPS] = this.gapCount[slot];
      fields[f + FIELD_STEP] = this.step[slot];
      fields[f + FIELD_SEEN] = this.seen[slot];
      fields[f + FIELD_SINCE_JUMP] = this.sinceJump[slot];
      const base = slot * RECENT_READINGS;
      at = copyRange(this.recent, base, this.recentCount[slot], values, at);
      at = copyRange(this.gaps, base, this.gapCount[slot], values, at);
      for (let kind = JUMPS; kind <= GAP_JUMPS; kind++) {
        const k = 2 * slot + kind;
        const s = f + FIELD_SIZES + kind * SIZES_FIELDS;
        fields[s] = this.zero[k];
        fields[s + 1] = this.low[k];
        fields[s + 2] = this.unit[k];
        fields[s + 3] = this.length[k];
        at = copyRange(this.arena, this.offset[k], this.length[k], values, at);
      }
    }
    return { modalities, nodes, readings, fields, values };
  }

  /** Fills an empty store from the packed form, checked beforehand (packedJumpsProblem). */
  restorePacked(packed: PackedJumps): void {
    const { modalities, nodes, readings, fields, values } = packed;
    let r = 0;
    let at = 0;
    const take = (count: number): Float64Array => values.subarray((at += count) - count, at);
    nodes.forEach((node, n) => {
      for (let end = r + readings[n]; r < end; r++) {
        const f = r * READING_FIELDS;
        const slot = this.slotFor(node, modalities[fields[f + FIELD_MODALITY]], undefined);
        const base = slot * RECENT_READINGS;
        const recent = take(fields[f + FIELD_RECENT]).subarray(-RECENT_READINGS);
        const gaps = take(fields[f + FIELD_GAPS]).subarray(-RECENT_READINGS);
        this.recent.set(recent, base);
        this.recentCount[slot] = recent.length;
        this.gaps.set(gaps, base);
        this.gapCount[slot] = gaps.length;
        this.step[slot] = fields[f + FIELD_STEP];
        this.seen[slot] = fields[f + FIELD_SEEN];
        this.sinceJump[slot] = fields[f + FIELD_SINCE_JUMP];
        for (const kind of [JUMPS, GAP_JUMPS]) {
          const s = f + FIELD_SIZES + kind * SIZES_FIELDS;
          this.setSizes(2 * slot + kind, fields[s], fields[s + 1], fields[s + 2], take(fields[s + 3]));
        }
      }
    });
  }

  /** A new slot's size weights of one kind, in a region of their own. */
  private setSizes(k: number, zero: number, low: number, unit: number, weights: ArrayLike<number>): void {
    const room = weights.length + LIST_SLACK;
    const at = this.claim(room);
    this.arena.set(weights, at);
    this.zero[k] = zero;
    this.low[k] = low;
    this.unit[k] = unit;
    this.offset[k] = at;
    this.length[k] = weights.length;
    this.room[k] = room;
  }

  private sizesJson(k: number): FadingSizes {
    const offset = this.offset[k];
    return {
      zero: this.zero[k],
      low: this.low[k],
      weights: listOf(this.arena, offset, this.length[k]),
      unit: this.unit[k],
    };
  }

  /** A slot with the fields of a reading not seen before. */
  private allocate(): number {
    const slot = this.free.pop() ?? this.used++;
    if (slot >= this.capacity) this.grow();
    this.recentCount[slot] = 0;
    this.gapCount[slot] = 0;
    this.step[slot] = 0;
    this.seen[slot] = 0;
    this.sinceJump[slot] = Number.NaN;
    for (const k of [2 * slot + JUMPS, 2 * slot + GAP_JUMPS]) {
      this.zero[k] = 0;
      this.low[k] = 1;
      this.unit[k] = 1;
      this.offset[k] = 0;
      this.length[k] = 0;
      this.room[k] = 0;
    }
    return slot;
  }

  private release(slots: readonly number[]): void {
    for (const slot of slots) {
      for (const k of [2 * slot + JUMPS, 2 * slot + GAP_JUMPS]) {
        this.arenaGarbage += this.room[k];
        this.length[k] = 0;
        this.room[k] = 0;
      }
      this.free.push(slot);
    }
  }

  /** Doubles the slots' arrays. */
  private grow(): void {
    this.capacity *= 2;
    const wider = <T extends Float64Array | Uint8Array>(array: T, per: number): T => {
      const out = new (array.constructor as new (length: number) => T)(this.capacity * per);
      out.set(array);
      return out;
    };
    this.recent = wider(this.recent, RECENT_READINGS);
    this.gaps = wider(this.gaps, RECENT_READINGS);
    this.recentCount = wider(this.recentCount, 1);
    this.gapCount = wider(this.gapCount, 1);
    this.step = wider(this.step, 1);
    this.seen = wider(this.seen, 1);
    this.sinceJump = wider(this.sinceJump, 1);
    this.zero = wider(this.zero, 2);
    this.low = wider(this.low, 2);
    this.unit = wider(this.unit, 2);
    this.offset = wider(this.offset, 2);
    this.length = wider(this.length, 2);
    this.room = wider(this.room, 2);
  }

  /** `size` places at the arena's end (it grows by ARENA_GROWTH when full; offsets stay). */
  private claim(size: number): number {
    const at = this.arenaEnd;
    if (at + size > this.arena.length) {
      const larger = new Float64Array(Math.max(Math.ceil(ARENA_GROWTH * this.arena.length), at + size));
      larger.set(this.arena.subarray(0, at));
      this.arena = larger;
    }
    this.arenaEnd = at + size;
    return at;
  }

  /** Moves every living list to the start of a new arena, in slot order. */
  private compact(): void {
    const living = this.arenaEnd - this.arenaGarbage;
    const packed = new Float64Array(Math.max(1_024, Math.ceil(living * ARENA_GROWTH)));
    let end = 0;
    this.forEachSlot((slot) => {
      for (const k of [2 * slot + JUMPS, 2 * slot + GAP_JUMPS]) {
        const offset = this.offset[k];
        packed.set(this.arena.subarray(offset, offset + this.length[k]), end);
        this.offset[k] = end;
        end += this.room[k];
      }
    });
    this.arena = packed;
    this.arenaEnd = end;
    this.arenaGarbage = 0;
    this.compactions += 1;
  }
}

/**
 * Copies `source[from …from + count)` to `target` at `at`; returns the place after it. A loop rather than
 * `target.set(source.subarray(…))`, which makes a view per list: packing copies a few lists per reading.
 */
function copyRange(source: Float64Array, from: number, count: number, target: Float64Array, at: number): number {
  for (let i = 0; i < count; i++) target[at + i] = source[from + i];
  return at + count;
}

/** `values[from …from + count)` as a list; a loop, as Array.from over a typed array walks an iterator per value. */
function listOf(values: Float64Array, from: number, count: number): number[] {
  const list = new Array<number>(count);
  for (let i = 0; i < count; i++) list[i] = values[from + i];
  return list;
}
