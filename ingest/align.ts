import type { Frame, FrameNode, Modality, NodeId, Reading } from '../common/types.ts';
import type { NodeDirectory } from './directory.ts';

/**
 * Event-time alignment of readings on ticks, per cluster. Pure: no clock, no
 * I/O; the same readings in the same order always give the same frames.
 *
 * - Ticks are [k·tickMs, (k+1)·tickMs) in UTC ms, so every replica and every
 *   restart agrees on tick boundaries.
 * - Watermark = max event time seen − allowedLatenessMs. With several input
 *   sources (Kafka partitions, each in its own event-time order), the max is
 *   taken per source and the watermark follows the slowest active one, so a
 *   partition read ahead of the others does not make theirs late. A source
 *   with nothing to read is moved forward by the caller (`setIdle`, to an
 *   event time the others had already reached) so that it does not hold the
 *   watermark back forever. A tick is emitted
 *   (one frame per cluster) once the watermark reaches its end; a reading for
 *   an already-emitted tick is late and rejected.
 * - A node's value for a modality in a tick is its reading nearest to the
 *   middle of the tick (ties: earlier, then smaller value); without one, the
 *   last known value (the latest reading of an earlier tick), with
 *   `staleTicks` saying how old the freshest real reading behind the node is.
 * - A node is `silent` when no reading arrived for more than silenceMs of event
 *   time before the tick's end (a node that never reported counts from the
 *   first tick this aligner saw).
 *
 * The state (`AlignerState`) is plain JSON, small (last values per node and
 * modality + the few open ticks within allowed lateness), and restores exactly.
 */
export interface AlignerOptions {
  tickMs: number;
  allowedLatenessMs: number;
  silenceMs: number;
  /**
   * Longest stretch of event time without any reading that is emitted tick
   * by tick (default 24 h). When the watermark jumps over a longer empty
   * stretch (the stream stopped, then resumed), its older ticks are skipped:
   * they would only be frames of silent nodes. Measured in time, so the
   * limit means the same whatever the tick; ticks that hold readings are
   * never skipped.
   */
  maxCatchUpMs?: number;
  /** Told about every skip (the caller logs and counts it: the aligner itself does no I/O). */
  onSkip?: (skip: SkippedTicks) => void;
}

/** Ticks of an empty stretch that were not emitted. */
export interface SkippedTicks {
  /** First skipped tick start, UTC ms. */
  from: number;
  /** First tick emitted after them (the skipped ones are [from, to)). */
  to: number;
  ticks: number;
}

export const DEFAULT_MAX_CATCH_UP_MS = 24 * 3600_000;

interface Sample {
  ts: number;
  value: number;
}

interface TickCell {
  /** Nearest to the tick's middle: the tick's value. */
  best: Sample;
  /** Latest in event time: what later ticks carry forward. */
  latest: Sample;
}

export interface AlignerState {
  format: 1;
  /** Start of the next tick to emit; null before the first reading. */
  nextTick: number | null;
  /** True once a tick was emitted: from then on nextTick only moves forward. */
  emitted: boolean;
  /** First tick this aligner saw (silence of never-heard nodes counts from here). */
  firstTick: number | null;
  maxEventTs: number | null;
  /**
   * Max event time per input source (raised by setIdle for a source with
   * nothing to read); a registered source without readings (null) holds the
   * watermark until it delivers or is marked idle with an event time.
   */
  sources: Record<string, { maxTs: number | null; idle: boolean }>;
  /** Per node: last known value per modality and the time of its latest reading, from emitted ticks. */
  nodes: Record<NodeId, { last: Record<Modality, Sample>; lastTs: number }>;
  /** Open ticks (start → node → modality → cell). */
  open: Record<string, Record<NodeId, Record<Modality, TickCell>>>;
}

export type AddResult =
  { status: 'accepted'; frames: Frame[] } | { status: 'late'; tick: number; nextTick: number; frames: Frame[] };

/** A node without readings in a tick (shared, never written). */
const NO_CELLS: Readonly<Record<Modality, TickCell>> = Object.freeze({});

function closerToMiddle(candidate: Sample, current: Sample, middle: number): boolean {
  const dc = Math.abs(candidate.ts - middle);
  const d = Math.abs(current.ts - middle);
  if (dc !== d) return dc < d;
  if (candidate.ts !== current.ts) return candidate.ts < current.ts;
  return candidate.value < current.value;
}

function later(candidate: Sample, current: Sample): boolean {
  return candidate.ts !== current.ts ? candidate.ts > current.ts : candidate.value > current.value;
}

export class Aligner {
  private state: AlignerState;
  private directory: NodeDirectory;
  private readonly options: Required<Omit<AlignerOptions, 'onSkip'>> & Pick<AlignerOptions, 'onSkip'>;

  constructor(directory: NodeDirectory, options: AlignerOptions, state?: AlignerState) {
    if (!(options.tickMs > 0)) throw new Error(`tickMs must be positive, got ${options.tickMs}`);
    this.directory = directory;
    this.options = { ...options, maxCatchUpMs: options.maxCatchUpMs ?? DEFAULT_MAX_CATCH_UP_MS };
    this.state = state
      ? ({ ...structuredClone(state), sources: structuredClone(state.sources ?? {}) } as AlignerState)
      : {
          format: 1,
          nextTick: null,
          emitted: false,
          firstTick: null,
          maxEventTs: null,
          sources: {},
          nodes: {},
          open: {},
        };
  }

  tickOf(ts: number): number {
    return Math.floor(ts / this.options.tickMs) * this.options.tickMs;
  }

  /** Max event time seen minus allowed lateness; null before the first reading. */
  get watermark(): number | null {
    const s = this.state;
    if (s.maxEventTs === null) return null;
    // A loop, not arrays of the sources: this runs after every reading.
    let slowest = Infinity;
    for (const id in s.sources) {
      const maxTs = s.sources[id].maxTs;
      if (maxTs === null) return null;
      if (maxTs < slowest) slowest = maxTs;
    }
    return (slowest === Infinity ? s.maxEventTs : slowest) - this.options.allowedLatenessMs;
  }

  /**
   * Declares the input sources (e.g. the partitions this consumer owns). A new
   * source holds the watermark until its first reading or until setIdle gives
   * it an event time; sources not listed are forgotten.
   */
  setSources(ids: string[]): Frame[] {
    const next: AlignerState['sources'] = {};
    for (const id of ids) next[id] = this.state.sources[id] ?? { maxTs: null, idle: false };
    this.state.sources = next;
    return this.emitReady();
  }

  /**
   * Marks a source as having nothing to read and moves its event time up to
   * `upTo` (an event time the other sources had already reached a while ago,
   * so that their batches still in flight are not made late); returns due frames.
   */
  setIdle(id: string, upTo: number | null): Frame[] {
    const source = this.state.sources[id];
    if (!source) return [];
    source.idle = true;
    if (upTo !== null && (source.maxTs === null || upTo > source.maxTs)) source.maxTs = upTo;
    return this.emitReady();
  }

  /** Max event time over all sources (null before the first reading). */
  get maxEventTs(): number | null {
    return this.state.maxEventTs;
  }

  /** A copy of the state, to checkpoint. */
  snapshot(): AlignerState {
    return structuredClone(this.state);
  }

  /** The live state, without a copy: serialize it at once (cheaper than snapshot() on every batch). */
  stateView(): Readonly<AlignerState> {
    return this.state;
  }

  /** Uses a new topology from the next emitted tick on; state of removed nodes is dropped. */
  setDirectory(directory: NodeDirectory): void {
    this.directory = directory;
    for (const node of Object.keys(this.state.nodes)) if (!directory.has(node)) delete this.state.nodes[node];
  }

  /** Adds one (already validated) reading; returns the frames of ticks the watermark has now passed. */
  add(reading: Reading, source?: string): AddResult {
    const tick = this.tickOf(reading.ts);
    const s = this.state;
    if (source !== undefined) {
      const entry = (s.sources[source] ??= { maxTs: null, idle: false });
      entry.idle = false;
      if (entry.maxTs === null || reading.ts > entry.maxTs) entry.maxTs = reading.ts;
    }
    if (s.emitted && s.nextTick !== null && tick < s.nextTick) {
      return { status: 'late', tick, nextTick: s.nextTick, frames: [] };
    }
    if (s.nextTick === null || tick < s.nextTick) s.nextTick = tick;
    if (!s.emitted && (s.firstTick === null || tick < s.firstTick)) s.firstTick = tick;
    const middle = tick + this.options.tickMs / 2;
    const cells = ((s.open[String(tick)] ??= {})[reading.node] ??= {});
    for (const modality in reading.values) {
      const value = reading.values[modality];
      const sample = { ts: reading.ts, value };
      const cell = cells[modality];
      if (!cell) {
        cells[modality] = { best: sample, latest: sample };
        continue;
      }
      if (closerToMiddle(sample, cell.best, middle)) cell.best = sample;
      if (later(sample, cell.latest)) cell.latest = sample;
    }
    if (s.maxEventTs === null || reading.ts > s.maxEventTs) s.maxEventTs = reading.ts;
    return { status: 'accepted', frames: this.emitReady() };
  }

  /**
   * Moves event time forward without a reading (e.g. a live network that went
   * quiet, judged against the wall clock by the caller); returns due frames.
   */
  advanceTo(eventTs: number): Frame[] {
    if (this.state.nextTick === null) return [];
    if (this.state.maxEventTs === null || eventTs > this.state.maxEventTs) this.state.maxEventTs = eventTs;
    for (const source of Object.values(this.state.sources))
      if (source.maxTs === null || eventTs > source.maxTs) source.maxTs = eventTs;
    return this.emitReady();
  }

  /** Emits every open tick regardless of the watermark (end of a finite stream). */
  flush(): Frame[] {
    const s = this.state;
    const open = Object.keys(s.open).map(Number);
    if (s.nextTick === null || open.length === 0) return [];
    const last = Math.max(...open);
    const frames: Frame[] = [];
    while (s.nextTick <= last) frames.push(...this.emitTick());
    return frames;
  }

  private emitReady(): Frame[] {
    const s = this.state;
    const watermark = this.watermark;
    if (s.nextTick === null || watermark === null) return [];
    const tickMs = this.options.tickMs;
    const frames: Frame[] = [];
    while (s.nextTick + tickMs <= watermark) {
      if (!s.open[String(s.nextTick)]) this.skipEmptyStretch(watermark);
      frames.push(...this.emitTick());
    }
    return frames;
  }

  /**
   * At an empty tick: if the stretch of due ticks without any reading that
   * starts here is longer than maxCatchUpMs, moves past its older part and
   * reports the skip. Only empty ticks are skipped; the last maxCatchUpMs of
   * the stretch are still emitted (the nodes go silent in them).
   */
  private skipEmptyStretch(watermark: number): void {
    const s = this.state;
    const from = s.nextTick as number;
    const { tickMs, maxCatchUpMs } = this.options;
    // First tick start that is not due yet.
    const dueEnd = from + Math.floor((watermark - from) / tickMs) * tickMs;
    let end = dueEnd;
    for (const key of Object.keys(s.open)) {
      const tick = Number(key);
      if (tick > from && tick < end) end = tick;
    }
    const keep = Math.max(1, Math.floor(maxCatchUpMs / tickMs)) * tickMs;
    if (end - from <= keep) return;
    const to = end - keep;
    s.nextTick = to;
    s.emitted = true;
    this.options.onSkip?.({ from, to, ticks: Math.round((to - from) / tickMs) });
  }

  /** Folds an open tick's readings into the nodes' last known values and drops it. */
  private foldTick(tick: number): void {
    const s = this.state;
    const open = s.open[String(tick)] ?? {};
    for (const node in open) {
      const cells = open[node];
      let latestTs = -Infinity;
      for (const modality in cells) if (cells[modality].latest.ts > latestTs) latestTs = cells[modality].latest.ts;
      if (!Number.isFinite(latestTs) || !this.directory.has(node)) continue;
      const ns = (s.nodes[node] ??= { last: {}, lastTs: latestTs });
      for (const modality in cells) {
        const cell = cells[modality];
        const prev = ns.last[modality];
        if (!prev || later(cell.latest, prev)) ns.last[modality] = cell.latest;
        if (cell.latest.ts > ns.lastTs) ns.lastTs = cell.latest.ts;
      }
    }
    delete s.open[String(tick)];
  }

  private emitTick(): Frame[] {
    const s = this.state;
    const tick = s.nextTick as number;
    const { tickMs, silenceMs } = this.options;
    const cellsByNode = s.open[String(tick)] ?? {};
    const frames: Frame[] = [];
    for (const cluster of this.directory.clusters) {
      const nodes: FrameNode[] = cluster.nodes.map((node) => {
        const cells = cellsByNode[node] ?? NO_CELLS;
        const known = s.nodes[node];
        const modalities =
          this.directory.sortedModalitiesOf(node) ??
          [...new Set([...Object.keys(known?.last ?? {}), ...Object.keys(cells)])].sort();
        const values: Record<Modality, number | null> = {};
        for (const m of modalities) values[m] = cells[m]?.best.value ?? known?.last[m]?.value ?? null;
        // The latest reading of the tick, when it has any (a loop: this runs for every node of every tick).
        let freshTs = -Infinity;
        for (const m in cells) if (cells[m].latest.ts > freshTs) freshTs = cells[m].latest.ts;
        const fresh = freshTs !== -Infinity;
        const lastTs = fresh ? freshTs : known?.lastTs;
        const heardSince = lastTs ?? (s.firstTick as number);
        const staleTicks = fresh ? 0 : Math.max(0, Math.round((tick - this.tickOf(heardSince)) / tickMs));
        return { node, values, staleTicks, silent: tick + tickMs - heardSince > silenceMs };
      });
      frames.push({
        network: this.directory.network,
        cluster: cluster.id,
        tick,
        topologyVersion: this.directory.version,
        nodes,
      });
    }
    this.foldTick(tick);
    s.nextTick = tick + tickMs;
    s.emitted = true;
    return frames;
  }
}
