/**
 * Checks for the schema shortcuts (ingest's plain reading, the detector's plain frame): they look at a parsed JSON
 * value in place and leave anything unusual to the schema, which says what is wrong.
 */

/** A JSON object: not null, not an array. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** How many own enumerable keys `value` has when all of them are in `allowed`, else -1. */
export function keysWithin(value: object, allowed: ReadonlySet<string>): number {
  let count = 0;
  for (const key in value) {
    if (!allowed.has(key)) return -1;
    count++;
  }
  return count;
}
