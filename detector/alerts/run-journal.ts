/**
 * What a batch's readings changed in the stuck statistics' runs (stuck.ts),
 * one record per reading: the run, its scalars before, and its ended runs'
 * lists before (learnRun replaces those, never changes them). A frame's
 * records are rewound newest first by one undo, instead of an undo closure
 * per reading holding a copy of the run's fields: those were most of what
 * the stuck statistics allocated, at every reading of every tick.
 */
import type { RunState } from './stuck.ts';

// A record's scalars: the run's value, repeats, since, stuck (1/0), step, whether it has a usual run, and that run.
const VALUE = 0;
const REPEATS = 1;
const SINCE = 2;
const STUCK = 3;
const STEP = 4;
const HAS_USUAL = 5;
const USUAL = 6;
const SCALARS = 7;

export class RunJournal {
  private runs: Array<RunState | undefined> = [];
  private buckets: Array<number[] | undefined> = [];
  private weights: Array<number[] | undefined> = [];
  private scalars = new Float64Array(0);
  /** Records in use. */
  length = 0;

  /** Records the run as it is, before a reading changes it. */
  record(run: RunState): void {
    const r = this.length++;
    if ((r + 1) * SCALARS > this.scalars.length) {
      const grown = new Float64Array(Math.max(64, 2 * this.length) * SCALARS);
      grown.set(this.scalars);
      this.scalars = grown;
    }
    this.runs[r] = run;
    this.buckets[r] = run.buckets;
    this.weights[r] = run.weights;
    const at = r * SCALARS;
    const s = this.scalars;
    s[at + VALUE] = run.value;
    s[at + REPEATS] = run.repeats;
    s[at + SINCE] = run.since;
    s[at + STUCK] = run.stuck ? 1 : 0;
    s[at + STEP] = run.step;
    s[at + HAS_USUAL] = run.usual === undefined ? 0 : 1;
    s[at + USUAL] = run.usual ?? 0;
  }

  /** Puts the runs recorded from `mark` on back as they were, newest first, and forgets those records. */
  rewind(mark: number): void {
    const s = this.scalars;
    for (let r = this.length - 1; r >= mark; r--) {
      const run = this.runs[r] as RunState;
      const at = r * SCALARS;
      run.value = s[at + VALUE];
      run.repeats = s[at + REPEATS];
      run.since = s[at + SINCE];
      run.stuck = s[at + STUCK] === 1;
      run.step = s[at + STEP];
      run.buckets = this.buckets[r] as number[];
      run.weights = this.weights[r] as number[];
      run.usual = s[at + HAS_USUAL] === 1 ? s[at + USUAL] : undefined;
    }
    this.forget(Math.min(this.length, mark));
  }

  /** The batch went through: nothing of it will be taken back (the runs and lists it held are let go). */
  clear(): void {
    this.forget(0);
  }

  private forget(from: number): void {
    for (let r = from; r < this.length; r++) {
      this.runs[r] = undefined;
      this.buckets[r] = undefined;
      this.weights[r] = undefined;
    }
    this.length = from;
  }
}
