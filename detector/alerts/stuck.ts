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
 * Nothing is judged before a reading has shown WARMUP_RUNS runs. The state is
 * plain JSON, checkpointed with the cluster.
 */
import type { Frame, Modality, NodeId } from '../../common/types.ts';

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

/** The usual run of a reading (USUAL_QUANTILE of its ended runs); undefined before WARMUP_RUNS. */
export function usualRun(runs: Readonly<Record<string, number>>): number | undefined {
  const buckets = Object.entries(runs)
    .map(([bucket, weight]) => [Number(bucket), weight] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, weight]) => sum + weight, 0);
  if (total < WARMUP_RUNS) return undefined;
  let seen = 0;
  for (const [bucket, weight] of buckets) {
    seen += weight;
    if (seen >= USUAL_QUANTILE * total) return bucketTop(bucket);
  }
  return bucketTop(buckets[buckets.length - 1][0]);
}

/** Two readings are the same value when they differ by float noise or by less than half the sensor's resolution. */
function sameValue(a: number, b: number, step: number): boolean {
  const noise = 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return Math.abs(a - b) <= Math.max(noise, step / 2);
}

/** Counts an ended run into the usual lengths, the older ones fading. */
function learnRun(state: RunStateJson): void {
  const fade = 1 - 1 / RUN_MEMORY;
  for (const bucket of Object.keys(state.runs)) {
    state.runs[bucket] *= fade;
    if (state.runs[bucket] < 1e-3) delete state.runs[bucket];
  }
  const bucket = String(runBucket(state.repeats));
  state.runs[bucket] = (state.runs[bucket] ?? 0) + 1;
}

/** One fresh reading of a node's modality. */
function addReading(state: RunStateJson | undefined, value: number, tick: number): RunStateJson {
  if (!state) return { value, repeats: 1, since: tick, stuck: false, step: 0, runs: {} };
  if (sameValue(value, state.value, state.step)) {
    state.repeats += 1;
    return state;
  }
  const change = Math.abs(value - state.value);
  state.step = state.step > 0 ? Math.min(state.step, change) : change;
  if (!state.stuck) learnRun(state);
  Object.assign(state, { value, repeats: 1, since: tick, stuck: false });
  return state;
}

/**
 * The stuck-at statistics of one cluster's nodes. `observe` takes every
 * frame, judged or not, so the usual runs are learnt from the stream's start.
 */
export class StuckReadings {
  private state: StuckStateJson;

  constructor(state: StuckStateJson = {}) {
    this.state = structuredClone(state);
  }

  toJSON(): StuckStateJson {
    return structuredClone(this.state);
  }

  clone(): StuckReadings {
    return new StuckReadings(this.state);
  }

  /**
   * Feeds one frame; returns, per node whose reading is stuck at this tick,
   * the stuck modality (the longest run when several are). `neighbours[n]`
   * are the frame's n-th node's graph neighbours (undefined or none: the
   * rest of the cluster).
   */
  observe(
    frame: Frame,
    modalities: readonly Modality[],
    neighbours: ReadonlyArray<readonly NodeId[] | undefined>,
    policy: StuckPolicy & { minRepeats: number },
  ): Map<NodeId, Modality> {
    const present = new Set(frame.nodes.map((node) => node.node));
    for (const node of Object.keys(this.state)) if (!present.has(node)) delete this.state[node];
    for (const node of frame.nodes) {
      // A held value (no reading at this tick) or a silent node says nothing about repeats.
      if (node.silent || node.staleTicks > 0) continue;
      const readings = (this.state[node.node] ??= {});
      for (const modality of modalities) {
        const value = node.values[modality];
        if (value === null || value === undefined || !Number.isFinite(value)) continue;
        readings[modality] = addReading(readings[modality], value, frame.tick);
      }
    }
    const stuck = new Map<NodeId, Modality>();
    frame.nodes.forEach((node, n) => {
      if (node.silent) return;
      // Without graph neighbours (none given, or a node without edges in its cluster) the rest of the cluster.
      const given = neighbours[n];
      const around = (): readonly NodeId[] =>
        given?.length ? given : frame.nodes.filter((other) => other !== node).map((other) => other.node);
      let longest = 0;
      for (const modality of modalities) {
        const run = this.state[node.node]?.[modality];
        if (!run || !this.judge(run, modality, around, frame, policy)) continue;
        if (run.repeats > longest) stuck.set(node.node, modality);
        longest = Math.max(longest, run.repeats);
      }
    });
    return stuck;
  }

  /** Whether a reading's current run is stuck at this tick (once stuck, until the value moves). */
  private judge(
    run: RunStateJson,
    modality: Modality,
    neighbours: () => readonly NodeId[],
    frame: Frame,
    policy: StuckPolicy & { minRepeats: number },
  ): boolean {
    if (run.stuck) return true;
    if (run.repeats <= policy.minRepeats) return false;
    const usual = usualRun(run.runs);
    if (usual === undefined || run.repeats <= policy.multiple * usual) return false;
    const halfway = run.since + (frame.tick - run.since) / 2;
    const silent = new Set(frame.nodes.filter((node) => node.silent).map((node) => node.node));
    let known = 0;
    let moving = 0;
    for (const neighbour of neighbours()) {
      const other = this.state[neighbour]?.[modality];
      if (!other || silent.has(neighbour)) continue;
      known += 1;
      if (other.since > halfway) moving += 1;
    }
    run.stuck = known > 0 && moving >= policy.neighbourShare * known;
    return run.stuck;
  }
}
