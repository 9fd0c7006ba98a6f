/**
 * Stuck-at faults, a slow path of per-node statistics beside the model.
 *
 * A sensor stuck at one value is the fault the model sees worst: a repeated
 * value looks like a quiet sensor to an autoencoder, so it scores low. It is
 * plain to see in the readings, though, once one knows how long that node's
 * reading of that modality usually stays put. Per node and modality, on the
 * stream:
 *
 *  - a run is a stretch of readings with the same value (exactly, or within
 *    half the smallest change the sensor has shown: its resolution), counted
 *    in readings that arrived; a tick whose value was held (the ingest's gap
 *    filling: `staleTicks` > 0), a missing value or a silent node neither
 *    lengthens nor ends a run;
 *  - the usual length of a run is a high quantile (USUAL_QUANTILE) of the
 *    lengths of the runs that ended, with old runs fading (RUN_MEMORY): a
 *    continuous signal's runs are a reading or two, a coarsely quantized
 *    one's (battery voltage) can be hundreds, and a reading that is dark all
 *    night has a few long runs among many short ones, which the quantile
 *    leaves out;
 *  - the reading is stuck when its current run is longer than `multiple`
 *    times the usual one and than `minRepeats` readings, while at least
 *    `neighbourShare` of its neighbours' readings of that modality changed
 *    in the later half of the run (a whole network repeating is the
 *    environment, not one node's fault);
 *  - it stays stuck until the value moves; a stuck run is a fault, so it is
 *    not learnt as usual when it ends.
 *
 * Nothing is judged before a reading has shown WARMUP_RUNS runs. In memory
 * the ended runs are kept sorted by length with their usual run, updated
 * when a run ends (not recomputed at every tick); the checkpoint holds them
 * packed (pack, packed-stuck.ts); one written before that holds plain JSON,
 * bucket → weight (toJSON), which still restores.
 */
import { emptyRecord, entryOf, keepOnly, UndoRecorder, type Undo, type Undoable } from './undo-log.ts';
import { RunJournal } from './run-journal.ts';
import type { Frame, Modality, NodeId } from '../../common/types.ts';
import { canonicalModalities, isPacked } from './packed-readings.ts';
import {
  RUN_BUCKETS,
  RUN_FIELDS,
  RUN_MODALITY,
  RUN_REPEATS,
  RUN_SINCE,
  RUN_STEP,
  RUN_STUCK,
  RUN_VALUE,
  type PackedStuck,
} from './packed-stuck.ts';

/** When a reading counts as stuck (config detector.stuck). */
export interface StuckPolicy {
  /** The current run must be longer than this multiple of the usual run (the quantile). */
  multiple: number;
  /** …and longer than this many readings; unset: the model's window. */
  minRepeats?: number;
  /** Share of the neighbours with a reading of the modality whose value changed in the later half of the run. */
  neighbourShare: number;
}

/** One node's reading of one modality: its current run and the lengths of its past runs. Plain JSON. */
export interface RunStateJson {
  /** The value of the current run. */
  value: number;
  /** Readings in the current run (1: only the reading that started it). */
  repeats: number;
  /** Tick of the run's first reading (UTC ms). */
  since: number;
  /** The run was declared stuck: a fault, not learnt as usual when it ends. */
  stuck: boolean;
  /** Smallest change seen between two readings (0: none yet): half of it counts as the same value. */
  step: number;
  /** Weights of the ended runs per length bucket (runBucket), fading by RUN_MEMORY. */
  runs: Record<string, number>;
}

/** Per node, per modality. */
export type StuckStateJson = Record<NodeId, Record<Modality, RunStateJson>>;

/** The quantile of the ended runs' lengths taken as the usual run. */
export const USUAL_QUANTILE = 0.99;
/** Ended runs a reading must have shown before it is judged. */
export const WARMUP_RUNS = 50;
/** Ended runs after which an old one weighs 1/e: recent runs count most, a season's change is followed. */
const RUN_MEMORY = 2_000;
/**
 * A run this many times a reading's usual run (its 99th percentile) is far
 * outside what the reading does: enough to name an alert's modality, not to
 * call the reading stuck (StuckPolicy.multiple).
 */
export const UNUSUAL_RUN_MULTIPLE = 3;
/** Run lengths up to this are counted exactly; longer ones in buckets an eighth of an octave wide. */
const EXACT_RUNS = 16;

/** The bucket a run of `repeats` readings is counted in. */
export function runBucket(repeats: number): number {
  if (repeats <= EXACT_RUNS) return repeats;
  return EXACT_RUNS + Math.max(1, Math.ceil(8 * Math.log2(repeats / EXACT_RUNS) - 1e-9));
}

/** The longest run a bucket holds. */
export function bucketTop(bucket: number): number {
  if (bucket <= EXACT_RUNS) return bucket;
  return Math.floor(EXACT_RUNS * 2 ** ((bucket - EXACT_RUNS) / 8) + 1e-9);
}

/**
 * A reading's run statistics as kept in memory: its ended runs' length
 * buckets in ascending order with their weights, and the usual run they give.
 * The usual run changes only when a run ends, so it is computed then, not
 * at every tick the current run is judged.
 */
export interface RunState extends Omit<RunStateJson, 'runs'> {
  /** Length buckets of the ended runs, ascending (runBucket). */
  buckets: number[];
  /** Their weights, fading by RUN_MEMORY (same order). */
  weights: number[];
  /** usualRun of the buckets (undefined before WARMUP_RUNS). */
  usual: number | undefined;
}

/** USUAL_QUANTILE of runs counted in ascending `buckets` with `weights`; undefined before WARMUP_RUNS. */
function usualOfBuckets(buckets: readonly number[], weights: readonly number[]): number | undefined {
  // Summed in ascending bucket order, as the quantile walks them: the same sums give the same answer.
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (total < WARMUP_RUNS) return undefined;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += weights[i];
    if (seen >= USUAL_QUANTILE * total) return bucketTop(buckets[i]);
  }
  return bucketTop(buckets[buckets.length - 1]);
}

/** The usual run of a reading (USUAL_QUANTILE of its ended runs); undefined before WARMUP_RUNS. */
export function usualRun(runs: Readonly<Record<string, number>>): number | undefined {
  const sorted = sortedRuns(runs);
  return usualOfBuckets(sorted.buckets, sorted.weights);
}

/** A checkpoint's run lengths (bucket → weight) as ascending buckets and their weights. */
function sortedRuns(runs: Readonly<Record<string, number>>): { buckets: number[]; weights: number[] } {
  const entries = Object.entries(runs)
    .map(([bucket, weight]) => [Number(bucket), weight] as const)
    .filter(([bucket, weight]) => Number.isFinite(bucket) && Number.isFinite(weight))
    .sort((a, b) => a[0] - b[0]);
  return { buckets: entries.map(([bucket]) => bucket), weights: entries.map(([, weight]) => weight) };
}

function fromJson({ runs, ...current }: RunStateJson): RunState {
  const { buckets, weights } = sortedRuns(runs);
  return { ...current, buckets, weights, usual: usualOfBuckets(buckets, weights) };
}

function toJson({ buckets, weights, usual: _usual, ...current }: RunState): RunStateJson {
  // Integer keys keep ascending order in a JSON object: the checkpoint reads as it always did.
  return { ...current, runs: Object.fromEntries(buckets.map((bucket, i) => [String(bucket), weights[i]])) };
}

/** Two readings are the same value when they differ by float noise or by less than half the sensor's resolution. */
function sameValue(a: number, b: number, step: number): boolean {
  const noise = 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return Math.abs(a - b) <= Math.max(noise, step / 2);
}

/**
 * Counts an ended run into the usual lengths, the older ones fading, and updates the usual run. The lists are
 * replaced, not changed, so a batch's undo (runUndo) keeps the old ones by reference. They are made at their exact
 * length: lists grown by push keep room for 17 entries, and a detector holds two per node and modality.
 */
function learnRun(state: RunState): void {
  const fade = 1 - 1 / RUN_MEMORY;
  const bucket = runBucket(state.repeats);
  let kept = 0;
  let counted = false;
  for (let i = 0; i < state.buckets.length; i++) {
    if (state.weights[i] * fade < 1e-3) continue;
    kept += 1;
    if (state.buckets[i] === bucket) counted = true;
  }
  const length = counted ? kept : kept + 1;
  const buckets = new Array<number>(length);
  const weights = new Array<number>(length);
  let at = 0;
  let placed = counted;
  for (let i = 0; i < state.buckets.length; i++) {
    const weight = state.weights[i] * fade;
    if (weight < 1e-3) continue;
    if (!placed && state.buckets[i] > bucket) {
      buckets[at] = bucket;
      weights[at] = 1;
      at += 1;
      placed = true;
    }
    buckets[at] = state.buckets[i];
    weights[at] = state.buckets[i] === bucket ? weight + 1 : weight;
    at += 1;
  }
  if (!placed) {
    buckets[at] = bucket;
    weights[at] = 1;
  }
  state.buckets = buckets;
  state.weights = weights;
  state.usual = usualOfBuckets(buckets, weights);
}

/** One fresh reading of a node's modality. */
function addReading(state: RunState | undefined, value: number, tick: number): RunState {
  if (!state)
    return { value, repeats: 1, since: tick, stuck: false, step: 0, buckets: [], weights: [], usual: undefined };
  if (sameValue(value, state.value, state.step)) {
    state.repeats += 1;
    return state;
  }
  const change = Math.abs(value - state.value);
  state.step = state.step > 0 ? Math.min(state.step, change) : change;
  if (!state.stuck) learnRun(state);
  state.value = value;
  state.repeats = 1;
  state.since = tick;
  state.stuck = false;
  return state;
}

/** What one frame shows, per node: a stuck modality, and one running unusually long though not stuck yet. */
export interface StuckFindings {
  stuck: Map<NodeId, Modality>;
  unusual: Map<NodeId, Modality>;
}

/**
 * How a node's current run of a modality ranks (undefined: it does not count); `n` is the node's index in the frame, for
 * its neighbours when they are needed (around). An index rather than a closure per node and frame: each such closure
 * was named at run time (Object.defineProperty), about 1 % of a detector's CPU in a profile at 10,000 nodes.
 */
type RunScore = (run: RunState, modality: Modality, n: number) => number | undefined;

/**
 * The stuck-at statistics of one cluster's nodes. `observe` takes every
 * frame, judged or not, so the usual runs are learnt from the stream's start.
 */
export class StuckReadings implements Undoable {
  private state: Record<NodeId, Record<Modality, RunState>>;
  /** The changes of the batch that may still be rolled back. */
  private readonly undo = new UndoRecorder();
  /** What the batch's readings changed in their runs, taken back with it. */
  private readonly journal = new RunJournal();

  /** From a checkpoint's statistics: the packed form (checked: packedStuckProblem), or the JSON form of older ones. */
  constructor(state: StuckStateJson | PackedStuck = {}) {
    this.state = isPacked(state) ? unpack(state) : mapRecord(state, (readings) => mapRecord(readings, fromJson));
  }

  /** The checkpoint form (packed-stuck.ts). */
  pack(): PackedStuck {
    const names = new Set<Modality>();
    for (const readings of Object.values(this.state)) for (const modality of Object.keys(readings)) names.add(modality);
    const { modalities } = canonicalModalities([...names]);
    const nodes = Object.keys(this.state).sort();
    const readings = new Float64Array(nodes.length);
    const ordered: Array<[number, RunState]> = [];
    let runCount = 0;
    nodes.forEach((node, n) => {
      const runs = this.state[node];
      modalities.forEach((modality, m) => {
        const run = runs[modality];
        if (!run) return;
        ordered.push([m, run]);
        readings[n] += 1;
        runCount += run.buckets.length;
      });
    });
    const fields = new Float64Array(ordered.length * RUN_FIELDS);
    const runs = new Float64Array(2 * runCount);
    let at = 0;
    ordered.forEach(([m, run], r) => {
      // Field by field, not set from a list of them: packing runs per reading.
      const f = r * RUN_FIELDS;
      fields[f + RUN_MODALITY] = m;
      fields[f + RUN_VALUE] = run.value;
      fields[f + RUN_REPEATS] = run.repeats;
      fields[f + RUN_SINCE] = run.since;
      fields[f + RUN_STUCK] = run.stuck ? 1 : 0;
      fields[f + RUN_STEP] = run.step;
      fields[f + RUN_BUCKETS] = run.buckets.length;
      runs.set(run.buckets, at);
      runs.set(run.weights, at + run.buckets.length);
      at += 2 * run.buckets.length;
    });
    return { modalities, nodes, readings, fields, runs };
  }

  /** The statistics as plain JSON, per node and modality (what checkpoints held before the packed form). */
  toJSON(): StuckStateJson {
    return mapRecord(this.state, (readings) => mapRecord(readings, toJson));
  }

  /** Records the changes from here on; the function returned undoes them (the batch's rollback). */
  keepUndo(): () => void {
    this.dropUndo();
    return this.undo.keep();
  }

  /** Stops recording (the batch went through): its changes can no longer be undone. */
  dropUndo(): void {
    this.undo.drop();
    this.journal.clear();
  }

  /** A reading's usual run now (undefined: not learnt yet, or no such reading). */
  usualRun(node: NodeId, modality: Modality): number | undefined {
    return this.state[node]?.[modality]?.usual;
  }

  /**
   * Feeds one frame. Returns, per node, the modality stuck at this tick (the
   * longest run when several are), and the modality of a reading that is not
   * stuck yet but whose current run is already longer than `minRepeats` and
   * UNUSUAL_RUN_MULTIPLE times its usual run while its neighbours move (the
   * longest against its usual run when several are). The second judges
   * nothing: it names the modality of an alert the model fires at this tick,
   * since a sensor stuck a few ticks before the stuck path would call it
   * disturbs the model's errors of the node's other readings too.
   * `neighbours[n]` are the frame's n-th node's graph neighbours (undefined
   * or none: the rest of the cluster).
   */
  observe(
    frame: Frame,
    modalities: readonly Modality[],
    neighbours: ReadonlyArray<readonly NodeId[] | undefined>,
    policy: StuckPolicy & { minRepeats: number },
  ): StuckFindings {
    const { log } = this.undo;
    const { journal } = this;
    keepOnly(this.state, new Set(frame.nodes.map((node) => node.node)), log);
    const mark = journal.length;
    for (const node of frame.nodes) {
      // A held value (no reading at this tick) or a silent node says nothing about repeats.
      if (node.silent || node.staleTicks > 0) continue;
      const readings = entryOf(this.state, node.node, emptyRecord<RunState>, log);
      for (const modality of modalities) {
        const value = node.values[modality];
        if (value === null || value === undefined || !Number.isFinite(value)) continue;
        const run = readings[modality];
        if (log) {
          if (run) journal.record(run);
          else log.push(forget(readings, modality));
        }
        readings[modality] = addReading(run, value, frame.tick);
      }
    }
    // The runs are put back before the readings new in this frame are forgotten: an undo per frame, not per reading.
    if (log && journal.length > mark) log.push(() => journal.rewind(mark));
    const around = (n: number): readonly NodeId[] => this.around(frame, n, neighbours);
    // Stuck first: judging marks a run stuck, and a stuck run is not an unusual one.
    const stuck = this.pickPerNode(frame, modalities, (run, modality, n) =>
      this.judge(run, modality, n, around, frame, policy) ? run.repeats : undefined,
    );
    const unusual = this.pickPerNode(frame, modalities, (run, modality, n) => {
      if (run.stuck || run.usual === undefined || run.repeats <= policy.minRepeats) return undefined;
      const ratio = run.repeats / run.usual;
      if (ratio <= UNUSUAL_RUN_MULTIPLE || !this.neighboursMove(run, modality, around(n), frame, policy))
        return undefined;
      return ratio;
    });
    return { stuck, unusual };
  }

  /**
   * Per node that is not silent, the modality whose current run scores
   * highest by `score` (undefined: the run does not count; ties keep the
   * first modality).
   */
  private pickPerNode(frame: Frame, modalities: readonly Modality[], score: RunScore): Map<NodeId, Modality> {
    const picked = new Map<NodeId, Modality>();
    const { nodes } = frame;
    for (let n = 0; n < nodes.length; n++) {
      const node = nodes[n];
      if (node.silent) continue;
      const runs = this.state[node.node];
      if (!runs) continue;
      let best = 0;
      for (const modality of modalities) {
        const run = runs[modality];
        const value = run ? score(run, modality, n) : undefined;
        if (value === undefined || value <= best) continue;
        picked.set(node.node, modality);
        best = value;
      }
    }
    return picked;
  }

  /** The n-th node's neighbours: its graph neighbours, or without any (none given, or a node without edges in its cluster) the rest of the cluster. */
  private around(frame: Frame, n: number, neighbours: ReadonlyArray<readonly NodeId[] | undefined>): readonly NodeId[] {
    const given = neighbours[n];
    return given?.length ? given : frame.nodes.filter((_, i) => i !== n).map((other) => other.node);
  }

  /** Whether a reading's current run is stuck at this tick (once stuck, until the value moves). */
  private judge(
    run: RunState,
    modality: Modality,
    n: number,
    around: (n: number) => readonly NodeId[],
    frame: Frame,
    policy: StuckPolicy & { minRepeats: number },
  ): boolean {
    if (run.stuck) return true;
    if (run.repeats <= policy.minRepeats) return false;
    const usual = run.usual;
    if (usual === undefined || run.repeats <= policy.multiple * usual) return false;
    const stuck = this.neighboursMove(run, modality, around(n), frame, policy);
    if (stuck) {
      run.stuck = true;
      this.undo.log?.push(() => (run.stuck = false));
    }
    return stuck;
  }

  /** Whether at least the policy's share of the neighbours' readings of the modality changed in the later half of the run. */
  private neighboursMove(
    run: RunState,
    modality: Modality,
    neighbours: readonly NodeId[],
    frame: Frame,
    policy: StuckPolicy,
  ): boolean {
    const halfway = run.since + (frame.tick - run.since) / 2;
    const silent = new Set(frame.nodes.filter((node) => node.silent).map((node) => node.node));
    let known = 0;
    let moving = 0;
    for (const neighbour of neighbours) {
      const other = this.state[neighbour]?.[modality];
      if (!other || silent.has(neighbour)) continue;
      known += 1;
      if (other.since > halfway) moving += 1;
    }
    return known > 0 && moving >= policy.neighbourShare * known;
  }
}

/** What takes back a reading new to the statistics. */
function forget(readings: Record<Modality, RunState>, modality: Modality): Undo {
  return () => delete readings[modality];
}

/** The statistics of a packed form (checked beforehand). */
function unpack({
  modalities,
  nodes,
  readings,
  fields,
  runs,
}: PackedStuck): Record<NodeId, Record<Modality, RunState>> {
  const state: Record<NodeId, Record<Modality, RunState>> = {};
  let r = 0;
  let at = 0;
  nodes.forEach((node, n) => {
    const runsOfNode: Record<Modality, RunState> = {};
    for (let end = r + readings[n]; r < end; r++) {
      const f = r * RUN_FIELDS;
      const count = fields[f + RUN_BUCKETS];
      const buckets = Array.from(runs.subarray(at, at + count));
      const weights = Array.from(runs.subarray(at + count, at + 2 * count));
      at += 2 * count;
      runsOfNode[modalities[fields[f + RUN_MODALITY]]] = {
        value: fields[f + RUN_VALUE],
        repeats: fields[f + RUN_REPEATS],
        since: fields[f + RUN_SINCE],
        stuck: fields[f + RUN_STUCK] === 1,
        step: fields[f + RUN_STEP],
        buckets,
        weights,
        usual: usualOfBuckets(buckets, weights),
      };
    }
    state[node] = runsOfNode;
  });
  return state;
}

function mapRecord<A, B>(record: Readonly<Record<string, A>>, map: (value: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
