/**
 * The median, one definition for the whole tree: the middle value of an odd
 * count, the mean of the two middle values of an even count, NaN for none.
 * Values are compared as numbers; a NaN among them has no place in the order,
 * so callers pass finite values.
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return medianOfSorted(sorted.length, (i) => sorted[i]);
}

/**
 * The median of `count` values already in ascending order, read through `at`:
 * lets a caller leave one value out, or read a scratch buffer's first `count`
 * values, without copying.
 */
export function medianOfSorted(count: number, at: (i: number) => number): number {
  if (count === 0) return NaN;
  const mid = count >> 1;
  return count % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}
