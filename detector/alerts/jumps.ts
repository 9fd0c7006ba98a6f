/**
 * Sudden jumps of one reading, a path of per-node statistics beside the model.
 *
 * A reading that leaves its node's own recent level and its neighbours' in
 * one step (a spike, the first readings of a noisy sensor, a gain or an
 * offset setting in) is plain to see in the readings at once, while the
 * model's score needs a few ticks of its window to rise. Per node and
 * modality, on the stream, over the readings that arrived (a held value, a
 * missing value or a silent node is no reading):
 *
 *  - the jump is the reading against the median of the node's last
 *    RECENT_READINGS readings; its gap is the same against its neighbours:
 *    the reading minus the neighbours' median, against the median of its
 *    last gaps (what moves the whole neighbourhood cancels out);
 *  - the usual jump and the usual gap change are a high quantile
 *    (USUAL_QUANTILE) of their sizes so far, old readings fading
 *    (JUMP_MEMORY), and never below the sensor's resolution (the smallest
 *    change it has shown);
 *  - the reading is sudden when its jump and its gap change go the same way
 *    and both are more than `multiple` times the usual ones, and no
 *    neighbour's reading of the modality jumped by a third of that within
 *    `quietTicks` ticks (sunrise on one side of a room moves several nodes at
 *    once: the environment, not one node's fault).
 *
 * A sudden reading is a fault, so its sizes are not learnt as usual. Nothing
 * is judged before a reading has shown WARMUP_READINGS readings. The state is
 * checkpointed with the cluster in a packed form (pack, packed-jumps.ts); a
 * checkpoint written before it holds plain JSON (toJSON), which still restores.
 *
 * Old sizes fade without being touched: the weights are kept in a unit that
 * grows with every size learnt, so learning a size changes one bucket. That
 * makes a batch's changes small enough to keep an undo log of them
 * (keepUndo) instead of copying the whole statistics before every batch for
 * its rollback; the copies were most of the detector's garbage. In memory the
 * statistics of a cluster are packed in typed arrays (jump-slots.ts); the
 * arithmetic of the weights is size-weights.ts's.
 */
import type { Frame, Modality, NodeId } from '../../common/types.ts';
import { lowerBound } from '../../common/lower-bound.ts';
import { medianOfSorted } from '../../common/median.ts';
import { GAP_JUMPS, JumpSlots, JUMPS } from './jump-slots.ts';
import type { PackedJumps } from './packed-jumps.ts';
import { isPacked } from './packed-readings.ts';
import { SIZE_FLOOR, sizeWeightsOf, type BucketRecord, type FadingSizes, type SizeWeights } from './size-weights.ts';
import { UndoRecorder, type Undo, type Undoable } from './undo-log.ts';

export { RECENT_READINGS } from './jump-slots.ts';
export {
  learnSize,
  noSizes,
  sizeBucket,
  sizeOfBucket,
  sizeWeightsOf,
  usualSize,
  USUAL_QUANTILE,
  type BucketRecord,
  type FadingSizes,
  type SizeWeights,
} from './size-weights.ts';

/** When a reading counts as a sudden jump (config detector.jumps). */
export interface JumpPolicy {
  /** The jump and the gap change must both exceed this multiple of their usual sizes. */
  multiple: number;
  /** A neighbour's jump of a third of that within this many ticks makes it the environment's. */
  quietTicks: number;
}

/** One node's reading of one modality. Plain JSON. */
export interface JumpStateJson {
  /** The node's last readings (oldest first). */
  recent: number[];
  /** Its last gaps to the neighbours' median (oldest first). */
  gaps: number[];
  /** Smallest change seen between two readings (0: none yet). */
  step: number;
  /** Readings learnt so far. */
  seen: number;
  /** Weights of the jump sizes and of the gap changes per size bucket (sizeBucket), fading by JUMP_MEMORY. */
  jumps: SizeWeights;
  gapJumps: SizeWeights;
  /** Frames of the cluster since this reading last jumped by a third of the multiple (null: not yet). */
  sinceJump: number | null;
}

/** Per node, per modality. */
export type JumpsStateJson = Record<NodeId, Record<Modality, JumpStateJson>>;

/** A checkpoint's jump statistics, in either form of the weights. */
export type StoredJumpsState = Record<
  NodeId,
  Record<
    Modality,
    Omit<JumpStateJson, 'jumps' | 'gapJumps'> & {
      jumps: SizeWeights | BucketRecord;
      gapJumps: SizeWeights | BucketRecord;
    }
  >
>;

/** Readings a node's modality must have shown before it is judged. */
export const WARMUP_READINGS = 200;

/** One fresh reading's jump and gap change, before it is added. */
interface Measured {
  node: NodeId;
  /** The node's index in the frame. */
  index: number;
  modality: Modality;
  /** Its statistics' slot in the cluster's JumpSlots. */
  slot: number;
  value: number;
  gap: number | undefined;
  /** Median of the node's recent readings and of its recent gaps, before this one (NaN: none yet). */
  recentLevel: number;
  usualGap: number;
  /** Signed jump and gap change in units of their usual sizes (undefined: not judged yet). */
  jump?: number;
  gapJump?: number;
}

/**
 * The sudden-jump statistics of one cluster's nodes. `observe` takes every
 * frame, judged or not, so the usual sizes are learnt from the stream's start.
 */
export class ReadingJumps implements Undoable {
  private readonly slots = new JumpSlots();
  /** The changes of the batch that may still be rolled back. */
  private readonly undo = new UndoRecorder();

  /** From a checkpoint's statistics: the packed form (checked: packedJumpsProblem), or the JSON form of older ones. */
  constructor(state: StoredJumpsState | PackedJumps = {}) {
    if (isPacked(state)) {
      this.slots.restorePacked(state);
      return;
    }
    for (const [node, readings] of Object.entries(state))
      for (const [modality, reading] of Object.entries(readings)) {
        const slot = this.slots.slotFor(node, modality, undefined);
        this.slots.restore(slot, {
          ...reading,
          jumps: fadingSizes(sizeWeightsOf(reading.jumps)),
          gapJumps: fadingSizes(sizeWeightsOf(reading.gapJumps)),
        });
      }
  }

  /** The checkpoint form (packed-jumps.ts). */
  pack(): PackedJumps {
    return this.slots.pack();
  }

  /** The statistics as plain JSON, per node and modality (what checkpoints held before the packed form). */
  toJSON(): JumpsStateJson {
    const out: JumpsStateJson = {};
    for (const [node, readings] of this.slots.entries()) out[node] = Object.fromEntries(readings);
    return out;
  }

  /** What the packed statistics take (JumpSlots.footprint). */
  footprint(): ReturnType<JumpSlots['footprint']> {
    return this.slots.footprint();
  }

  /** Records the changes from here on; the function returned undoes them (the batch's rollback). */
  keepUndo(): () => void {
    this.dropUndo();
    return this.undo.keep();
  }

  /** Stops recording (the batch went through): its changes can no longer be undone. */
  dropUndo(): void {
    this.undo.drop();
    this.slots.settle();
  }

  /**
   * Feeds one frame; returns, per node with a sudden reading at this tick,
   * its modality (the largest jump when several are). `neighbours[n]` are
   * the frame's n-th node's graph neighbours (undefined or none: the rest of
   * the cluster).
   */
  observe(
    frame: Frame,
    modalities: readonly Modality[],
    neighbours: ReadonlyArray<readonly NodeId[] | undefined>,
    policy: JumpPolicy,
  ): Map<NodeId, Modality> {
    const { log } = this.undo;
    const { slots } = this;
    // Without a batch to roll back, what the last frame freed is reusable now.
    if (!log) slots.settle();
    slots.keepOnly(new Set(frame.nodes.map((node) => node.node)), log);
    this.countFrame(log);
    const measured = this.measure(frame, modalities, neighbours, log);
    // Every jump of this tick is known before any is judged: nodes jumping together are the environment.
    for (const m of measured) {
      if (m.jump === undefined || !(Math.abs(m.jump) > policy.multiple / 3)) continue;
      const { slot } = m;
      const since = slots.sinceJump[slot];
      slots.sinceJump[slot] = 0;
      log?.push(() => (slots.sinceJump[slot] = since));
    }
    const sudden = new Map<NodeId, Modality>();
    const largest = new Map<NodeId, number>();
    // Nothing below changes a node's sinceJump, so the count per modality holds for the whole frame.
    const jumpedInFrame = new Map<Modality, number>();
    const mark = slots.journalMark();
    for (const m of measured) {
      const isSudden =
        suddenJump(m, policy.multiple) &&
        !this.neighbourJumped(frame, m.index, m.modality, neighbours[m.index], policy.quietTicks, jumpedInFrame);
      if (isSudden && Math.abs(m.jump as number) > (largest.get(m.node) ?? 0)) {
        sudden.set(m.node, m.modality);
        largest.set(m.node, Math.abs(m.jump as number));
      }
      learn(slots, m, !isSudden, log !== undefined);
    }
    // Nothing but learn changed the statistics in the loop: one undo takes all its readings back, newest first.
    if (log && slots.journalMark() > mark) log.push(() => slots.rewindJournal(mark));
    return sudden;
  }

  /** One more frame since every reading's last jump; with a log, the readings counted on are counted back on an undo. */
  private countFrame(log: Undo[] | undefined): void {
    const { slots } = this;
    const counting: number[] | undefined = log ? [] : undefined;
    const { sinceJump } = slots;
    slots.forEachSlot((slot) => {
      if (Number.isNaN(sinceJump[slot])) return;
      sinceJump[slot] += 1;
      counting?.push(slot);
    });
    if (log && counting)
      log.push(() => {
        // The arrays may have grown since: read them at undo time.
        for (const slot of counting) slots.sinceJump[slot] -= 1;
      });
  }

  /** The fresh readings of the frame with their jumps and gap changes against the state so far. */
  private measure(
    frame: Frame,
    modalities: readonly Modality[],
    neighbours: ReadonlyArray<readonly NodeId[] | undefined>,
    log: Undo[] | undefined,
  ): Measured[] {
    const { slots } = this;
    const measured: Measured[] = [];
    const gaps = new FrameGaps(frame);
    frame.nodes.forEach((node, n) => {
      if (node.silent || node.staleTicks > 0) return;
      for (const modality of modalities) {
        const value = node.values[modality];
        if (value === null || value === undefined || !Number.isFinite(value)) continue;
        const slot = slots.slotFor(node.node, modality, log);
        const gap = gaps.of(n, modality, value, neighbours[n]);
        const m: Measured = {
          node: node.node,
          index: n,
          modality,
          slot,
          value,
          gap,
          recentLevel: slots.recentMedian(slot, 'recent'),
          usualGap: slots.recentMedian(slot, 'gaps'),
        };
        if (slots.seen[slot] >= WARMUP_READINGS && gap !== undefined && slots.count(slot, 'gaps') > 0) {
          const resolution = slots.step[slot];
          m.jump = (value - m.recentLevel) / Math.max(slots.usualSize(slot, JUMPS), resolution, SIZE_FLOOR);
          m.gapJump = (gap - m.usualGap) / Math.max(slots.usualSize(slot, GAP_JUMPS), resolution, SIZE_FLOOR);
        }
        measured.push(m);
      }
    });
    return measured;
  }

  /** Whether a node of the frame other than `index` has jumped in `modality` within `quietTicks` (the environment moving). */
  private neighbourJumped(
    frame: Frame,
    index: number,
    modality: Modality,
    given: readonly NodeId[] | undefined,
    quietTicks: number,
    jumpedInFrame: Map<Modality, number>,
  ): boolean {
    const jumped = (node: NodeId): boolean => {
      const slot = this.slots.slotOf(node, modality);
      if (slot === undefined) return false;
      const since = this.slots.sinceJump[slot];
      return !Number.isNaN(since) && since <= quietTicks;
    };
    if (given?.length) return given.some(jumped);
    // The rest of the cluster: how many of the frame's nodes jumped, counted once per frame, less the node itself.
    let count = jumpedInFrame.get(modality);
    if (count === undefined) {
      count = frame.nodes.reduce((sum, other) => sum + (jumped(other.node) ? 1 : 0), 0);
      jumpedInFrame.set(modality, count);
    }
    return count - (jumped(frame.nodes[index].node) ? 1 : 0) > 0;
  }
}

/** Weights as a checkpoint kept them, as fading sizes (unit 1 when it kept none). */
function fadingSizes({ zero, low, weights, unit }: SizeWeights): FadingSizes {
  return { zero, low, weights, unit: unit ?? 1 };
}

/** Both the jump and the gap change beyond the multiple, the same way. */
function suddenJump(m: Measured, multiple: number): boolean {
  if (m.jump === undefined || m.gapJump === undefined) return false;
  return Math.sign(m.jump) === Math.sign(m.gapJump) && Math.min(Math.abs(m.jump), Math.abs(m.gapJump)) > multiple;
}

/**
 * Adds the reading to the recent levels; its sizes are learnt as usual unless it was sudden. Journalled, what it
 * changed can be taken back (JumpSlots.rewindJournal).
 */
function learn(slots: JumpSlots, m: Measured, asUsual: boolean, journalled: boolean): void {
  const { slot, value, gap } = m;
  if (journalled) slots.journalReading(slot);
  const last = slots.lastReading(slot);
  if (last !== undefined) {
    const change = Math.abs(value - last);
    const step = slots.step[slot];
    if (change > 1e-9 * Math.max(1, Math.abs(value))) slots.step[slot] = step > 0 ? Math.min(step, change) : change;
    if (asUsual) slots.learnSize(slot, JUMPS, Math.abs(value - m.recentLevel));
  }
  if (gap !== undefined) {
    if (asUsual && slots.count(slot, 'gaps') > 0) slots.learnSize(slot, GAP_JUMPS, Math.abs(gap - m.usualGap));
    slots.pushLast(slot, 'gaps', gap);
  }
  slots.pushLast(slot, 'recent', value);
  slots.seen[slot] += 1;
  slots.endReading();
}

/**
 * The readings' gaps to their neighbours' median of a modality at one tick. The frame's node positions are looked up
 * once, and without a graph the cluster's values are sorted once per modality and each node's own left out.
 */
class FrameGaps {
  private indexes: Map<NodeId, number> | undefined;
  private readonly sorted = new Map<Modality, number[]>();

  constructor(private readonly frame: Frame) {}

  /** The reading minus its neighbours' median (undefined: no neighbour has one). */
  of(n: number, modality: Modality, value: number, given: readonly NodeId[] | undefined): number | undefined {
    if (given?.length) {
      this.indexes ??= new Map(this.frame.nodes.map((node, i) => [node.node, i]));
      if (neighbourSeen.length < given.length) {
        neighbourSeen = new Int32Array(2 * given.length);
        neighbourValues = new Float64Array(2 * given.length);
      }
      // Per reading, in scratch arrays (this runs for every reading of every tick): the neighbours' positions taken
      // so far, and their values kept sorted as they come.
      let seen = 0;
      let count = 0;
      for (const neighbour of given) {
        const i = this.indexes.get(neighbour);
        if (i === undefined || i === n || taken(i, seen)) continue;
        neighbourSeen[seen++] = i;
        const v = readingOf(this.frame.nodes[i], modality);
        if (v === undefined) continue;
        let at = count++;
        for (; at > 0 && neighbourValues[at - 1] > v; at--) neighbourValues[at] = neighbourValues[at - 1];
        neighbourValues[at] = v;
      }
      return count > 0 ? value - medianOfSorted(count, neighbourValueAt) : undefined;
    }
    let sorted = this.sorted.get(modality);
    if (!sorted) {
      sorted = [];
      for (const node of this.frame.nodes) {
        const v = readingOf(node, modality);
        if (v !== undefined) sorted.push(v);
      }
      sorted.sort((a, b) => a - b);
      this.sorted.set(modality, sorted);
    }
    // The node's own reading is among them (it is not silent): leave one copy of it out.
    const own = lowerBound(sorted, value);
    const count = sorted.length - 1;
    if (count <= 0) return undefined;
    return value - medianOfSorted(count, (i) => sorted[i < own ? i : i + 1]);
  }
}

/** FrameGaps' scratch: a reading's neighbours' frame positions, and their values in ascending order. */
let neighbourSeen = new Int32Array(32);
let neighbourValues = new Float64Array(32);
const neighbourValueAt = (i: number): number => neighbourValues[i];
/** Whether frame position `i` is among the first `seen` positions taken. */
function taken(i: number, seen: number): boolean {
  for (let k = 0; k < seen; k++) if (neighbourSeen[k] === i) return true;
  return false;
}

/** A node's finite reading of a modality at this tick (undefined: silent, or none). */
function readingOf(node: Frame['nodes'][number], modality: Modality): number | undefined {
  if (node.silent) return undefined;
  const v = node.values[modality];
  return v !== null && v !== undefined && Number.isFinite(v) ? v : undefined;
}
