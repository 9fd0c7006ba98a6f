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
 * checkpointed with the cluster as plain JSON (toJSON).
 *
 * Old sizes fade without being touched: the weights are kept in a unit that
 * grows with every size learnt, so learning a size changes one bucket. That
 * makes a batch's changes small enough to keep an undo log of them
 * (keepUndo) instead of copying the whole statistics before every batch for
 * its rollback; the copies were most of the detector's garbage.
 */
import type { Frame, Modality, NodeId } from '../../common/types.ts';
import { lowerBound } from '../../common/lower-bound.ts';
import { median, medianOfSorted } from '../../common/median.ts';
import { emptyRecord, entryOf, keepOnly, UndoRecorder, type Undo, type Undoable } from './undo-log.ts';

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

/**
 * Weights per size bucket: bucket 0 (no change) apart, then the buckets `low`, `low + 1`, … in a dense list, which a
 * node's changes fill contiguously. A list of numbers instead of an object keyed by bucket: a fraction of the memory
 * and of the checkpoint, and read in bucket order without sorting. The weights are in units of `unit` (see
 * FadingSizes; absent, as checkpoints before it wrote them: 1), and one below a thousandth of it is forgotten.
 */
export interface SizeWeights {
  zero: number;
  low: number;
  weights: number[];
  unit?: number;
}

/** Per node, per modality. */
export type JumpsStateJson = Record<NodeId, Record<Modality, JumpStateJson>>;

/**
 * Size weights as they are learnt: in a unit that grows by 1 / FADE with every size, so a size learnt k sizes ago
 * weighs FADE^k of a new one without being faded itself. A weight below FORGOTTEN of the unit is forgotten (counts 0).
 */
export interface FadingSizes extends SizeWeights {
  /** What the newest size added; a weight's value in sizes is weight / unit. */
  unit: number;
}

/** One node's reading of one modality as held in memory: JumpStateJson with fading weights. */
interface JumpState extends Omit<JumpStateJson, 'jumps' | 'gapJumps'> {
  jumps: FadingSizes;
  gapJumps: FadingSizes;
}

type JumpsState = Record<NodeId, Record<Modality, JumpState>>;

/** How checkpoints written before the dense lists kept the weights: by bucket number. */
export type BucketRecord = Record<string, number>;
/** A checkpoint's jump statistics, in either form. */
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

/** Readings whose median is the node's recent level. */
export const RECENT_READINGS = 5;
/** The quantile of the sizes taken as the usual one. */
export const USUAL_QUANTILE = 0.99;
/** Readings a node's modality must have shown before it is judged. */
export const WARMUP_READINGS = 200;
/** Readings after which an old one weighs 1/e. */
const JUMP_MEMORY = 5_000;
/** What an older size weighs per size learnt after it. */
const FADE = 1 - 1 / JUMP_MEMORY;
/** A size whose weight faded below this is forgotten. */
const FORGOTTEN = 1e-3;
/** The fading unit is brought back to 1 before it could overflow (after about a million sizes). */
const RESCALE_ABOVE = 1e100;
/** Sizes are counted in buckets an eighth of an octave wide above this. */
const SIZE_FLOOR = 1e-9;

export function sizeBucket(size: number): number {
  if (!(size > SIZE_FLOOR)) return 0;
  return Math.max(1, Math.ceil(8 * Math.log2(size / SIZE_FLOOR) - 1e-9));
}

/** The largest size a bucket holds. */
export function sizeOfBucket(bucket: number): number {
  return bucket <= 0 ? SIZE_FLOOR : SIZE_FLOOR * 2 ** (bucket / 8);
}

/** Empty weights. */
export function noSizes(): FadingSizes {
  return { zero: 0, low: 1, weights: [], unit: 1 };
}

/** Weights kept by bucket number (older checkpoints) as the dense form; the dense form as it is. */
export function sizeWeightsOf(stored: SizeWeights | BucketRecord): SizeWeights {
  if (Array.isArray((stored as SizeWeights).weights)) return stored as SizeWeights;
  const out = noSizes();
  for (const [bucket, weight] of Object.entries(stored as BucketRecord)) addWeight(out, Number(bucket), weight);
  return out;
}

/** The USUAL_QUANTILE of the sizes counted in `weights` (0 when none); weights forgotten (below FORGOTTEN) count 0. */
export function usualSize(sizes: Readonly<SizeWeights> & { unit?: number }): number {
  const { zero, low, weights } = sizes;
  const forgotten = FORGOTTEN * (sizes.unit ?? 1);
  // Summed in bucket order, as the quantile walks them.
  let total = zero >= forgotten ? zero : 0;
  for (const weight of weights) if (weight >= forgotten) total += weight;
  if (!(total > 0)) return 0;
  let seen = zero >= forgotten ? zero : 0;
  if (seen > 0 && seen >= USUAL_QUANTILE * total) return sizeOfBucket(0);
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] < forgotten) continue;
    seen += weights[i];
    if (seen >= USUAL_QUANTILE * total) return sizeOfBucket(low + i);
  }
  return 0;
}

/** Adds `weight` to a bucket, widening the dense list to reach it. */
function addWeight(sizes: SizeWeights, bucket: number, weight: number): void {
  if (bucket <= 0) {
    sizes.zero += weight;
    return;
  }
  const { weights } = sizes;
  if (weights.length === 0) sizes.low = bucket;
  else if (bucket < sizes.low) {
    const before = new Array<number>(sizes.low - bucket).fill(0);
    weights.unshift(...before);
    sizes.low = bucket;
  }
  while (weights.length <= bucket - sizes.low) weights.push(0);
  weights[bucket - sizes.low] += weight;
}

/** Weights as a checkpoint kept them, as fading sizes (a copy). */
function fadingSizes({ zero, low, weights, unit }: SizeWeights): FadingSizes {
  return { zero, low, weights: weights.slice(), unit: unit ?? 1 };
}

/** Where learnSize changed a list in place (index −1: it replaced the list, or changed none), for an undo. */
const changedInPlace = { index: -1, before: 0 };

/**
 * Old sizes fade by JUMP_MEMORY and are forgotten below a thousandth; then the new one counts 1. Only the unit, zero
 * and the new size's bucket change, the bucket in place (reported in changedInPlace); when buckets at either end were
 * forgotten or the list must widen, a new list replaces it and the old one is left as it was.
 */
export function learnSize(sizes: FadingSizes, size: number): void {
  const { zero, low, weights, unit } = sizes;
  changedInPlace.index = -1;
  let next = unit / FADE;
  let list = weights;
  let nextZero = zero;
  if (next > RESCALE_ABOVE) {
    list = weights.map((weight) => weight / next);
    nextZero = zero / next;
    next = 1;
  }
  const forgotten = FORGOTTEN * next;
  if (nextZero < forgotten) nextZero = 0;
  const bucket = sizeBucket(size);
  if (bucket <= 0) nextZero += next;
  let first = 0;
  while (first < list.length && list[first] < forgotten) first++;
  let end = list.length;
  while (end > first && list[end - 1] < forgotten) end--;
  const from = bucket > 0 && (end === first || bucket < low + first) ? bucket : low + first;
  const to = bucket > 0 && (end === first || bucket >= low + end) ? bucket + 1 : low + end;
  if (from !== low || to !== low + list.length || list !== weights) {
    const widened = new Array<number>(to - from).fill(0);
    for (let i = first; i < end; i++) widened[low + i - from] = list[i];
    list = widened;
  } else if (bucket > 0) {
    changedInPlace.index = bucket - low;
    changedInPlace.before = list[bucket - low];
  }
  if (bucket > 0) {
    const at = bucket - from;
    list[at] = list[at] >= forgotten ? list[at] + next : next;
  }
  sizes.zero = nextZero;
  sizes.low = to > from ? from : low;
  sizes.weights = to > from ? list : [];
  sizes.unit = next;
}

/** Puts sizes back as they were before learnSize: its fields, and the weight it changed in place (index −1: none). */
function putBack(
  sizes: FadingSizes,
  zero: number,
  low: number,
  weights: number[],
  unit: number,
  index: number,
  before: number,
): void {
  sizes.zero = zero;
  sizes.low = low;
  sizes.weights = weights;
  sizes.unit = unit;
  if (index >= 0) weights[index] = before;
}

function copySizes({ zero, low, weights, unit }: FadingSizes): FadingSizes {
  return { zero, low, weights: weights.slice(), unit };
}

/** A reading's statistics before its first reading. */
function newJumpState(): JumpState {
  return { recent: [], gaps: [], step: 0, seen: 0, jumps: noSizes(), gapJumps: noSizes(), sinceJump: null };
}

/**
 * Appends `value` to a reading's last values, keeping RECENT_READINGS; returns the value that left (undefined: none).
 * A full list turns over in place. One still filling is replaced by a copy one longer: a list grown by push keeps
 * room for 17 values, twice the memory of 5, and a detector holds two such lists per node and modality.
 */
function pushLast(state: JumpState, list: 'recent' | 'gaps', value: number): number | undefined {
  const values = state[list];
  const length = values.length;
  if (length >= RECENT_READINGS) {
    const dropped = values[0];
    for (let i = 1; i < length; i++) values[i - 1] = values[i];
    values[length - 1] = value;
    return dropped;
  }
  const longer = new Array<number>(length + 1);
  for (let i = 0; i < length; i++) longer[i] = values[i];
  longer[length] = value;
  state[list] = longer;
  return undefined;
}

/** Takes back a pushLast: the value pushed goes, the one that left comes back. */
function unpushLast(state: JumpState, list: 'recent' | 'gaps', dropped: number | undefined): void {
  const values = state[list];
  if (dropped === undefined) {
    state[list] = values.slice(0, -1);
    return;
  }
  for (let i = values.length - 1; i > 0; i--) values[i] = values[i - 1];
  values[0] = dropped;
}

/** One fresh reading's jump and gap change, before it is added. */
interface Measured {
  node: NodeId;
  /** The node's index in the frame. */
  index: number;
  modality: Modality;
  state: JumpState;
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
  private state: JumpsState;
  /** The changes of the batch that may still be rolled back. */
  private readonly undo = new UndoRecorder();

  constructor(state: StoredJumpsState = {}) {
    this.state = {};
    for (const [node, readings] of Object.entries(state)) {
      const copy: Record<Modality, JumpState> = {};
      for (const [modality, reading] of Object.entries(readings))
        copy[modality] = {
          ...reading,
          recent: reading.recent.slice(),
          gaps: reading.gaps.slice(),
          jumps: fadingSizes(sizeWeightsOf(reading.jumps)),
          gapJumps: fadingSizes(sizeWeightsOf(reading.gapJumps)),
        };
      this.state[node] = copy;
    }
  }

  toJSON(): JumpsStateJson {
    const out: JumpsStateJson = {};
    for (const [node, readings] of Object.entries(this.state)) {
      const copy: Record<Modality, JumpStateJson> = {};
      for (const [modality, reading] of Object.entries(readings))
        copy[modality] = {
          ...reading,
          recent: reading.recent.slice(),
          gaps: reading.gaps.slice(),
          jumps: copySizes(reading.jumps),
          gapJumps: copySizes(reading.gapJumps),
        };
      out[node] = copy;
    }
    return out;
  }

  /** Records the changes from here on; the function returned undoes them (the batch's rollback). */
  keepUndo(): () => void {
    return this.undo.keep();
  }

  /** Stops recording (the batch went through): its changes can no longer be undone. */
  dropUndo(): void {
    this.undo.drop();
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
    keepOnly(this.state, new Set(frame.nodes.map((node) => node.node)), log);
    // With a log, the readings counted on are kept to count back on an undo.
    const counting: JumpState[] | undefined = log ? [] : undefined;
    for (const readings of Object.values(this.state))
      for (const state of Object.values(readings)) {
        if (state.sinceJump === null) continue;
        state.sinceJump += 1;
        counting?.push(state);
      }
    if (log && counting)
      log.push(() => {
        for (const state of counting) (state.sinceJump as number) -= 1;
      });
    const measured = this.measure(frame, modalities, neighbours, log);
    // Every jump of this tick is known before any is judged: nodes jumping together are the environment.
    for (const m of measured) {
      if (m.jump === undefined || !(Math.abs(m.jump) > policy.multiple / 3)) continue;
      const { state } = m;
      const since = state.sinceJump;
      state.sinceJump = 0;
      log?.push(() => (state.sinceJump = since));
    }
    const sudden = new Map<NodeId, Modality>();
    const largest = new Map<NodeId, number>();
    // Nothing below changes a node's sinceJump, so the count per modality holds for the whole frame.
    const jumpedInFrame = new Map<Modality, number>();
    for (const m of measured) {
      const isSudden =
        suddenJump(m, policy.multiple) &&
        !this.neighbourJumped(frame, m.index, m.modality, neighbours[m.index], policy.quietTicks, jumpedInFrame);
      if (isSudden && Math.abs(m.jump as number) > (largest.get(m.node) ?? 0)) {
        sudden.set(m.node, m.modality);
        largest.set(m.node, Math.abs(m.jump as number));
      }
      learn(m, !isSudden, log);
    }
    return sudden;
  }

  /** The fresh readings of the frame with their jumps and gap changes against the state so far. */
  private measure(
    frame: Frame,
    modalities: readonly Modality[],
    neighbours: ReadonlyArray<readonly NodeId[] | undefined>,
    log: Undo[] | undefined,
  ): Measured[] {
    const measured: Measured[] = [];
    const gaps = new FrameGaps(frame);
    frame.nodes.forEach((node, n) => {
      if (node.silent || node.staleTicks > 0) return;
      const readings = entryOf(this.state, node.node, emptyRecord<JumpState>, log);
      for (const modality of modalities) {
        const value = node.values[modality];
        if (value === null || value === undefined || !Number.isFinite(value)) continue;
        const state = entryOf(readings, modality, newJumpState, log);
        const gap = gaps.of(n, modality, value, neighbours[n]);
        const m: Measured = {
          node: node.node,
          index: n,
          modality,
          state,
          value,
          gap,
          recentLevel: recentMedian(state.recent),
          usualGap: recentMedian(state.gaps),
        };
        if (state.seen >= WARMUP_READINGS && gap !== undefined && state.gaps.length > 0) {
          const resolution = state.step;
          m.jump = (value - m.recentLevel) / Math.max(usualSize(state.jumps), resolution, SIZE_FLOOR);
          m.gapJump = (gap - m.usualGap) / Math.max(usualSize(state.gapJumps), resolution, SIZE_FLOOR);
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
      const since = this.state[node]?.[modality]?.sinceJump ?? null;
      return since !== null && since <= quietTicks;
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

/** Scratch for recentMedian: one list of at most RECENT_READINGS values at a time. */
const recentScratch = new Float64Array(RECENT_READINGS);

/**
 * The median of a node's last readings or gaps (NaN: none), as common/median.ts gives it, sorted in a scratch
 * buffer: it runs twice per reading, and a sorted copy per call was much of the detector's garbage.
 */
function recentMedian(values: readonly number[]): number {
  if (values.length > RECENT_READINGS) return median(values);
  const count = values.length;
  for (let i = 0; i < count; i++) {
    const value = values[i];
    let j = i;
    for (; j > 0 && recentScratch[j - 1] > value; j--) recentScratch[j] = recentScratch[j - 1];
    recentScratch[j] = value;
  }
  return medianOfSorted(count, (i) => recentScratch[i]);
}

/** Both the jump and the gap change beyond the multiple, the same way. */
function suddenJump(m: Measured, multiple: number): boolean {
  if (m.jump === undefined || m.gapJump === undefined) return false;
  return Math.sign(m.jump) === Math.sign(m.gapJump) && Math.min(Math.abs(m.jump), Math.abs(m.gapJump)) > multiple;
}

/**
 * Adds the reading to the recent levels; its sizes are learnt as usual unless it was sudden. With a log, one entry
 * puts all of it back.
 */
function learn(m: Measured, asUsual: boolean, log: Undo[] | undefined): void {
  const { state, value, gap } = m;
  const { step, seen, jumps, gapJumps } = state;
  // What the undo puts back, kept in this one entry's closure (an entry per reading per tick: no more objects).
  const { zero: jumpsZero, low: jumpsLow, weights: jumpsWeights, unit: jumpsUnit } = jumps;
  const { zero: gapZero, low: gapLow, weights: gapWeights, unit: gapUnit } = gapJumps;
  let jumpsIndex = -1;
  let jumpsBefore = 0;
  let gapIndex = -1;
  let gapBefore = 0;
  if (state.recent.length > 0) {
    const last = state.recent[state.recent.length - 1];
    const change = Math.abs(value - last);
    if (change > 1e-9 * Math.max(1, Math.abs(value)))
      state.step = state.step > 0 ? Math.min(state.step, change) : change;
    if (asUsual) {
      learnSize(jumps, Math.abs(value - m.recentLevel));
      ({ index: jumpsIndex, before: jumpsBefore } = changedInPlace);
    }
  }
  let gapPushed = false;
  let gapDropped: number | undefined;
  if (gap !== undefined) {
    if (asUsual && state.gaps.length > 0) {
      learnSize(gapJumps, Math.abs(gap - m.usualGap));
      ({ index: gapIndex, before: gapBefore } = changedInPlace);
    }
    gapDropped = pushLast(state, 'gaps', gap);
    gapPushed = true;
  }
  const recentDropped = pushLast(state, 'recent', value);
  state.seen += 1;
  log?.push(() => {
    unpushLast(state, 'recent', recentDropped);
    if (gapPushed) unpushLast(state, 'gaps', gapDropped);
    putBack(gapJumps, gapZero, gapLow, gapWeights, gapUnit, gapIndex, gapBefore);
    putBack(jumps, jumpsZero, jumpsLow, jumpsWeights, jumpsUnit, jumpsIndex, jumpsBefore);
    state.step = step;
    state.seen = seen;
  });
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
      const seen: number[] = [];
      const values: number[] = [];
      for (const neighbour of given) {
        const i = this.indexes.get(neighbour);
        if (i === undefined || i === n || seen.includes(i)) continue;
        seen.push(i);
        const v = readingOf(this.frame.nodes[i], modality);
        if (v !== undefined) values.push(v);
      }
      return values.length > 0 ? value - median(values) : undefined;
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

/** A node's finite reading of a modality at this tick (undefined: silent, or none). */
function readingOf(node: Frame['nodes'][number], modality: Modality): number | undefined {
  if (node.silent) return undefined;
  const v = node.values[modality];
  return v !== null && v !== undefined && Number.isFinite(v) ? v : undefined;
}
