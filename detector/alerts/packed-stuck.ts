/**
 * The checkpoint form of a cluster's stuck-at statistics (stuck.ts): a few
 * float64 arrays instead of an object per node and modality, which the
 * binary checkpoint stores as raw bytes (state/binary.ts). Canonical, as the
 * packed jumps are: nodes and modalities in code-unit order.
 */
import { countedValues, isCount, type PackedReadings } from './packed-readings.ts';

/** A cluster's stuck-at statistics as a checkpoint holds them (the checkpoint's `packedStuck`). */
export interface PackedStuck extends PackedReadings {
  /** RUN_FIELDS numbers per reading, laid out as the RUN_* indexes say. */
  fields: Float64Array;
  /** Per reading, one after the other: its ended runs' length buckets (ascending), then their weights. */
  runs: Float64Array;
}

/** Index of a reading's fields in `fields`: the modality's index, the current run's value, repeats and first tick, … */
export const RUN_MODALITY = 0;
export const RUN_VALUE = 1;
export const RUN_REPEATS = 2;
export const RUN_SINCE = 3;
/** 1 when the run was declared stuck, else 0. */
export const RUN_STUCK = 4;
export const RUN_STEP = 5;
/** How many length buckets of ended runs it has. */
export const RUN_BUCKETS = 6;
export const RUN_FIELDS = 7;

/** What is wrong with a packed form, for a checkpoint's error (undefined: nothing). */
export function packedStuckProblem(packed: PackedStuck): string | undefined {
  const { modalities, fields, runs } = packed;
  const needed = countedValues(
    packed,
    RUN_FIELDS,
    (f) => readingProblem(fields, f, modalities.length) ?? 2 * fields[f + RUN_BUCKETS],
  );
  if (typeof needed === 'string') return needed;
  if (runs.length !== needed) return `runs has ${runs.length} numbers, the fields account for ${needed}`;
  for (let r = 0, at = 0; r < fields.length / RUN_FIELDS; r++) {
    const count = fields[r * RUN_FIELDS + RUN_BUCKETS];
    for (let i = 0; i < count; i++) {
      const bucket = runs[at + i];
      if (!isCount(bucket) || (i > 0 && !(bucket > runs[at + i - 1])))
        return `reading ${r}: run bucket ${bucket} is not a count above the one before`;
      if (!(runs[at + count + i] >= 0)) return `reading ${r}: run weight ${runs[at + count + i]} is not 0 or more`;
    }
    at += 2 * count;
  }
  return undefined;
}

function readingProblem(fields: Float64Array, f: number, modalities: number): string | undefined {
  const modality = fields[f + RUN_MODALITY];
  if (!isCount(modality) || modality >= modalities) return `modality index ${modality} is not one of ${modalities}`;
  if (!Number.isFinite(fields[f + RUN_VALUE])) return `value ${fields[f + RUN_VALUE]} is not a number`;
  const repeats = fields[f + RUN_REPEATS];
  if (!isCount(repeats) || repeats < 1) return `repeats ${repeats} is not a count of 1 or more`;
  if (!Number.isFinite(fields[f + RUN_SINCE])) return `since ${fields[f + RUN_SINCE]} is not a tick`;
  const stuck = fields[f + RUN_STUCK];
  if (stuck !== 0 && stuck !== 1) return `stuck ${stuck} is not 0 or 1`;
  if (!(fields[f + RUN_STEP] >= 0)) return `step ${fields[f + RUN_STEP]} is not 0 or more`;
  if (!isCount(fields[f + RUN_BUCKETS])) return `bucket count ${fields[f + RUN_BUCKETS]} is not a count`;
  return undefined;
}
