/**
 * Fading weights of sizes per bucket, for the sudden jumps' usual jump and
 * usual gap change (jumps.ts): the sizes are counted in buckets an eighth of
 * an octave wide, old ones fading, and the usual size is a high quantile.
 *
 * Old sizes fade without being touched: the weights are kept in a unit that
 * grows with every size learnt, so learning a size changes one bucket. The
 * arithmetic lives here once, over a list given as a source, a start and a
 * length, so that the objects of the tests and the checkpoints and the packed
 * lists of a cluster's statistics (jump-slots.ts) learn alike, to the bit.
 */

/**
 * Weights per size bucket: bucket 0 (no change) apart, then the buckets `low`, `low + 1`, … in a dense list, which a
 * node's changes fill contiguously. The weights are in units of `unit` (absent, as checkpoints before it wrote them:
 * 1), and one below a thousandth of it is forgotten.
 */
export interface SizeWeights {
  zero: number;
  low: number;
  weights: number[];
  unit?: number;
}

/**
 * Size weights as they are learnt: in a unit that grows by 1 / FADE with every size, so a size learnt k sizes ago
 * weighs FADE^k of a new one without being faded itself. A weight below FORGOTTEN of the unit is forgotten (counts 0).
 */
export interface FadingSizes extends SizeWeights {
  /** What the newest size added; a weight's value in sizes is weight / unit. */
  unit: number;
}

/** How checkpoints written before the dense lists kept the weights: by bucket number. */
export type BucketRecord = Record<string, number>;

/** The quantile of the sizes taken as the usual one. */
export const USUAL_QUANTILE = 0.99;
/** Readings after which an old one weighs 1/e. */
const JUMP_MEMORY = 5_000;
/** What an older size weighs per size learnt after it. */
const FADE = 1 - 1 / JUMP_MEMORY;
/** A size whose weight faded below this is forgotten. */
const FORGOTTEN = 1e-3;
/** The fading unit is brought back to 1 before it could overflow (after about a million sizes). */
const RESCALE_ABOVE = 1e100;
/** Sizes are counted in buckets an eighth of an octave wide above this. */
export const SIZE_FLOOR = 1e-9;

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
  return usualOfList(sizes.zero, sizes.low, sizes.unit ?? 1, sizes.weights, 0, sizes.weights.length);
}

/** usualSize of the weights `source[start …start + length)` of buckets low, low + 1, … */
export function usualOfList(
  zero: number,
  low: number,
  unit: number,
  source: ArrayLike<number>,
  start: number,
  length: number,
): number {
  const forgotten = FORGOTTEN * unit;
  // Summed in bucket order, as the quantile walks them.
  let total = zero >= forgotten ? zero : 0;
  for (let i = start; i < start + length; i++) if (source[i] >= forgotten) total += source[i];
  if (!(total > 0)) return 0;
  let seen = zero >= forgotten ? zero : 0;
  if (seen > 0 && seen >= USUAL_QUANTILE * total) return sizeOfBucket(0);
  for (let i = 0; i < length; i++) {
    const weight = source[start + i];
    if (weight < forgotten) continue;
    seen += weight;
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

/**
 * What learning one size makes of a list (planLearn), before it is written: the new zero and unit, the new bucket
 * range [from, to), the kept weights `first … end` of the old list (each divided by `divisor`: the unit brought back
 * to 1, else 1), and whether the list must be replaced (the range moved, or the weights were rescaled) or its bucket
 * changes in place. One object reused: learning runs per reading.
 */
export interface LearnPlan {
  zero: number;
  unit: number;
  divisor: number;
  bucket: number;
  forgotten: number;
  first: number;
  end: number;
  from: number;
  to: number;
  replace: boolean;
}

const plan: LearnPlan = {
  zero: 0,
  unit: 1,
  divisor: 1,
  bucket: 0,
  forgotten: 0,
  first: 0,
  end: 0,
  from: 0,
  to: 0,
  replace: false,
};

/**
 * Old sizes fade by JUMP_MEMORY and are forgotten below a thousandth; then the new one counts 1. Only the unit, zero
 * and the new size's bucket change; when buckets at either end were forgotten or the list must widen, the list is
 * replaced. The list is `source[start …start + length)`, buckets low, low + 1, …; the plan returned is shared.
 */
export function planLearn(
  zero: number,
  low: number,
  unit: number,
  source: ArrayLike<number>,
  start: number,
  length: number,
  size: number,
): LearnPlan {
  let next = unit / FADE;
  let divisor = 1;
  let nextZero = zero;
  if (next > RESCALE_ABOVE) {
    divisor = next;
    nextZero = zero / next;
    next = 1;
  }
  const forgotten = FORGOTTEN * next;
  if (nextZero < forgotten) nextZero = 0;
  const bucket = sizeBucket(size);
  if (bucket <= 0) nextZero += next;
  let first = 0;
  while (first < length && source[start + first] / divisor < forgotten) first++;
  let end = length;
  while (end > first && source[start + end - 1] / divisor < forgotten) end--;
  plan.from = bucket > 0 && (end === first || bucket < low + first) ? bucket : low + first;
  plan.to = bucket > 0 && (end === first || bucket >= low + end) ? bucket + 1 : low + end;
  plan.replace = plan.from !== low || plan.to !== low + length || divisor !== 1;
  plan.zero = nextZero;
  plan.unit = next;
  plan.divisor = divisor;
  plan.bucket = bucket;
  plan.forgotten = forgotten;
  plan.first = first;
  plan.end = end;
  return plan;
}

/**
 * Writes a replacing list as `plan` says: zeros over [from, to), the kept weights of `source` (old buckets from
 * `low`, at `start`) at their buckets, then the new size. `target[at …]` holds the new list.
 */
export function writeReplacement(
  plan: Readonly<LearnPlan>,
  low: number,
  source: ArrayLike<number>,
  start: number,
  target: { [index: number]: number },
  at: number,
): void {
  const { from, to, first, end, divisor } = plan;
  for (let i = 0; i < to - from; i++) target[at + i] = 0;
  for (let i = first; i < end; i++) target[at + low + i - from] = source[start + i] / divisor;
  addNewSize(plan, target, at);
}

/** Counts the new size into its bucket of the list at `target[at …]` (buckets from plan.from). */
export function addNewSize(plan: Readonly<LearnPlan>, target: { [index: number]: number }, at: number): void {
  if (plan.bucket <= 0) return;
  const i = at + plan.bucket - plan.from;
  target[i] = target[i] >= plan.forgotten ? target[i] + plan.unit : plan.unit;
}

/**
 * learnSize on weights held as an object (tests, checkpoints): a replaced list is a new array, the old one left as it
 * was; otherwise the new size's bucket changes in place.
 */
export function learnSize(sizes: FadingSizes, size: number): void {
  const { low, weights } = sizes;
  const p = planLearn(sizes.zero, low, sizes.unit, weights, 0, weights.length, size);
  let list = weights;
  if (p.replace) {
    list = new Array<number>(p.to - p.from);
    writeReplacement(p, low, weights, 0, list, 0);
  } else addNewSize(p, list, 0);
  sizes.zero = p.zero;
  sizes.low = p.to > p.from ? p.from : low;
  sizes.weights = p.to > p.from ? list : [];
  sizes.unit = p.unit;
}
