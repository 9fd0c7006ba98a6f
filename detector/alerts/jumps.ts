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
 * plain JSON, checkpointed with the cluster.
 */
import type { Frame, Modality, NodeId } from '../../common/types.ts';
import { median } from '../../common/median.ts';

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
  jumps: Record<string, number>;
  gapJumps: Record<string, number>;
  /** Frames of the cluster since this reading last jumped by a third of the multiple (null: not yet). */
  sinceJump: number | null;
}

/** Per node, per modality. */
export type JumpsStateJson = Record<NodeId, Record<Modality, JumpStateJson>>;

/** Readings whose median is the node's recent level. */
export const RECENT_READINGS = 5;
/** The quantile of the sizes taken as the usual one. */
export const USUAL_QUANTILE = 0.99;
/** Readings a node's modality must have shown before it is judged. */
export const WARMUP_READINGS = 200;
/** Readings after which an old one weighs 1/e. */
const JUMP_MEMORY = 5_000;
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

/** The USUAL_QUANTILE of the sizes counted in `weights` (0 when none). */
export function usualSize(weights: Readonly<Record<string, number>>): number {
  const buckets = Object.entries(weights)
    .map(([bucket, weight]) => [Number(bucket), weight] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, weight]) => sum + weight, 0);
  let seen = 0;
  for (const [bucket, weight] of buckets) {
    seen += weight;
    if (seen >= USUAL_QUANTILE * total) return sizeOfBucket(bucket);
  }
  return 0;
}

function learnSize(weights: Record<string, number>, size: number): void {
  const fade = 1 - 1 / JUMP_MEMORY;
  for (const bucket of Object.keys(weights)) {
    weights[bucket] *= fade;
    if (weights[bucket] < 1e-3) delete weights[bucket];
  }
  const bucket = String(sizeBucket(size));
  weights[bucket] = (weights[bucket] ?? 0) + 1;
}

function push(list: number[], value: number): void {
  list.push(value);
  if (list.length > RECENT_READINGS) list.shift();
}

/** One fresh reading's jump and gap change, before it is added. */
interface Measured {
  node: NodeId;
  /** The node's index in the frame. */
  index: number;
  modality: Modality;
  state: JumpStateJson;
  value: number;
  gap: number | undefined;
  /** Signed jump and gap change in units of their usual sizes (undefined: not judged yet). */
  jump?: number;
  gapJump?: number;
}

/**
 * The sudden-jump statistics of one cluster's nodes. `observe` takes every
 * frame, judged or not, so the usual sizes are learnt from the stream's start.
 */
export class ReadingJumps {
  private state: JumpsStateJson;

  constructor(state: JumpsStateJson = {}) {
    this.state = structuredClone(state);
  }

  toJSON(): JumpsStateJson {
    return structuredClone(this.state);
  }

  clone(): ReadingJumps {
    return new ReadingJumps(this.state);
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
    const present = new Set(frame.nodes.map((node) => node.node));
    for (const node of Object.keys(this.state)) if (!present.has(node)) delete this.state[node];
    for (const readings of Object.values(this.state))
      for (const state of Object.values(readings)) if (state.sinceJump !== null) state.sinceJump += 1;
    const measured = this.measure(frame, modalities, neighbours);
    // Every jump of this tick is known before any is judged: nodes jumping together are the environment.
    for (const m of measured) if (m.jump !== undefined && Math.abs(m.jump) > policy.multiple / 3) m.state.sinceJump = 0;
    const sudden = new Map<NodeId, Modality>();
    const largest = new Map<NodeId, number>();
    for (const m of measured) {
      const given = neighbours[m.index];
      const around = given?.length ? given : frame.nodes.filter((_, i) => i !== m.index).map((other) => other.node);
      const calm = around.every((other) => {
        const since = this.state[other]?.[m.modality]?.sinceJump ?? null;
        return since === null || since > policy.quietTicks;
      });
      const isSudden = calm && suddenJump(m, policy.multiple);
      if (isSudden && Math.abs(m.jump as number) > (largest.get(m.node) ?? 0)) {
        sudden.set(m.node, m.modality);
        largest.set(m.node, Math.abs(m.jump as number));
      }
      learn(m, !isSudden);
    }
    return sudden;
  }

  /** The fresh readings of the frame with their jumps and gap changes against the state so far. */
  private measure(
    frame: Frame,
    modalities: readonly Modality[],
    neighbours: ReadonlyArray<readonly NodeId[] | undefined>,
  ): Measured[] {
    const measured: Measured[] = [];
    frame.nodes.forEach((node, n) => {
      if (node.silent || node.staleTicks > 0) return;
      const readings = (this.state[node.node] ??= {});
      for (const modality of modalities) {
        const value = node.values[modality];
        if (value === null || value === undefined || !Number.isFinite(value)) continue;
        const state = (readings[modality] ??= {
          recent: [],
          gaps: [],
          step: 0,
          seen: 0,
          jumps: {},
          gapJumps: {},
          sinceJump: null,
        });
        const gap = gapOf(frame, n, modality, value, neighbours[n]);
        const m: Measured = { node: node.node, index: n, modality, state, value, gap };
        if (state.seen >= WARMUP_READINGS && gap !== undefined && state.gaps.length > 0) {
          const resolution = state.step;
          m.jump = (value - median(state.recent)) / Math.max(usualSize(state.jumps), resolution, SIZE_FLOOR);
          m.gapJump = (gap - median(state.gaps)) / Math.max(usualSize(state.gapJumps), resolution, SIZE_FLOOR);
        }
        measured.push(m);
      }
    });
    return measured;
  }
}

/** Both the jump and the gap change beyond the multiple, the same way. */
function suddenJump(m: Measured, multiple: number): boolean {
  if (m.jump === undefined || m.gapJump === undefined) return false;
  return Math.sign(m.jump) === Math.sign(m.gapJump) && Math.min(Math.abs(m.jump), Math.abs(m.gapJump)) > multiple;
}

/** Adds the reading to the recent levels; its sizes are learnt as usual unless it was sudden. */
function learn(m: Measured, asUsual: boolean): void {
  const { state, value, gap } = m;
  if (state.recent.length > 0) {
    const last = state.recent[state.recent.length - 1];
    const change = Math.abs(value - last);
    if (change > 1e-9 * Math.max(1, Math.abs(value)))
      state.step = state.step > 0 ? Math.min(state.step, change) : change;
    if (asUsual) learnSize(state.jumps, Math.abs(value - median(state.recent)));
  }
  if (gap !== undefined) {
    if (asUsual && state.gaps.length > 0) learnSize(state.gapJumps, Math.abs(gap - median(state.gaps)));
    push(state.gaps, gap);
  }
  push(state.recent, value);
  state.seen += 1;
}

/** The reading minus its neighbours' median of the modality at this tick (undefined: no neighbour has one). */
function gapOf(
  frame: Frame,
  n: number,
  modality: Modality,
  value: number,
  given: readonly NodeId[] | undefined,
): number | undefined {
  const around = given?.length ? new Set(given) : undefined;
  const values: number[] = [];
  frame.nodes.forEach((other, i) => {
    if (i === n || other.silent || (around && !around.has(other.node))) return;
    const v = other.values[modality];
    if (v !== null && v !== undefined && Number.isFinite(v)) values.push(v);
  });
  return values.length > 0 ? value - median(values) : undefined;
}
