/**
 * The checkpoint form of a cluster's sudden-jump statistics (jump-slots.ts):
 * a few float64 arrays instead of an object per node and modality. Written
 * as JSON objects, the statistics were most of a checkpoint's encoding time
 * (docs/benchmarks.md); as arrays the binary checkpoint stores them as raw
 * bytes (state/binary.ts), copied in and out with no per-reading objects.
 *
 * Canonical: nodes and modalities in code-unit order, so two replicas with the
 * same statistics write the same bytes whatever order their nodes came in.
 */
import { countedValues, isCount, type PackedReadings } from './packed-readings.ts';

/** A cluster's jump statistics as a checkpoint holds them (the checkpoint's `packedJumps`). */
export interface PackedJumps extends PackedReadings {
  /** READING_FIELDS numbers per reading, laid out as the FIELD_* indexes say. */
  fields: Float64Array;
  /** Per reading, one after the other: its last readings, its last gaps, its jumps' weights, its gap changes' weights. */
  values: Float64Array;
}

/** Index of a reading's fields in `fields`: the modality's index, how many last readings and gaps it keeps, … */
export const FIELD_MODALITY = 0;
export const FIELD_RECENT = 1;
export const FIELD_GAPS = 2;
export const FIELD_STEP = 3;
export const FIELD_SEEN = 4;
/** Frames since the last jump (NaN: none yet). */
export const FIELD_SINCE_JUMP = 5;
/** Then per kind of size weights (jumps, gap changes) in turn: the zero bucket, the lowest bucket, the unit, the length. */
export const FIELD_SIZES = 6;
export const SIZES_FIELDS = 4;
export const READING_FIELDS = FIELD_SIZES + 2 * SIZES_FIELDS;

/** What is wrong with a packed form, for a checkpoint's error (undefined: nothing). */
export function packedJumpsProblem(packed: PackedJumps): string | undefined {
  const { modalities, fields, values } = packed;
  const needed = countedValues(packed, READING_FIELDS, (f) => {
    const problem = readingProblem(fields, f, modalities.length);
    if (problem) return problem;
    let count = fields[f + FIELD_RECENT] + fields[f + FIELD_GAPS];
    for (let kind = 0; kind < 2; kind++) count += fields[f + FIELD_SIZES + kind * SIZES_FIELDS + 3];
    return count;
  });
  if (typeof needed === 'string') return needed;
  if (values.length !== needed) return `values has ${values.length} numbers, the fields account for ${needed}`;
  for (let r = 0, at = 0; r < fields.length / READING_FIELDS; r++) {
    const f = r * READING_FIELDS;
    at += fields[f + FIELD_RECENT] + fields[f + FIELD_GAPS];
    for (let kind = 0; kind < 2; kind++) {
      const length = fields[f + FIELD_SIZES + kind * SIZES_FIELDS + 3];
      for (let i = at; i < at + length; i++)
        if (!(values[i] >= 0)) return `reading ${r}: size weight ${values[i]} is not 0 or more`;
      at += length;
    }
  }
  return undefined;
}

function readingProblem(fields: Float64Array, f: number, modalities: number): string | undefined {
  const modality = fields[f + FIELD_MODALITY];
  if (!isCount(modality) || modality >= modalities) return `modality index ${modality} is not one of ${modalities}`;
  for (const [name, at] of [
    ['recent', FIELD_RECENT],
    ['gaps', FIELD_GAPS],
  ] as const) {
    const count = fields[f + at];
    // More than the statistics keep is no harm: a restore keeps the last ones, as from the JSON form.
    if (!isCount(count)) return `${name} count ${count} is not a count`;
  }
  if (!(fields[f + FIELD_STEP] >= 0)) return `step ${fields[f + FIELD_STEP]} is not 0 or more`;
  if (!isCount(fields[f + FIELD_SEEN])) return `seen ${fields[f + FIELD_SEEN]} is not a count`;
  const since = fields[f + FIELD_SINCE_JUMP];
  if (!Number.isNaN(since) && !isCount(since)) return `sinceJump ${since} is not a count`;
  for (let kind = 0; kind < 2; kind++) {
    const s = f + FIELD_SIZES + kind * SIZES_FIELDS;
    const [zero, low, unit, length] = [fields[s], fields[s + 1], fields[s + 2], fields[s + 3]];
    const which = kind === 0 ? 'jumps' : 'gap changes';
    if (!(zero >= 0)) return `${which}' zero weight ${zero} is not 0 or more`;
    if (!Number.isInteger(low)) return `${which}' lowest bucket ${low} is not an integer`;
    if (!(unit > 0) || unit === Infinity) return `${which}' unit ${unit} is not positive`;
    if (!isCount(length)) return `${which}' length ${length} is not a count`;
  }
  return undefined;
}
