import { expect } from 'vitest';
import type { z } from 'zod';

/**
 * Holds a shortcut that skips a schema for plainly valid input to that
 * schema: every message it takes, the schema takes with the same data (and
 * `alsoTrue` holds for it). Says how many it took and how many it left to the
 * schema that the schema would have taken.
 */
export function expectShortcutWithinSchema<T>(
  messages: Iterable<string>,
  shortcut: (json: object) => T | null,
  schema: z.ZodType,
  alsoTrue: (taken: T, text: string) => void = () => undefined,
): { taken: number; leftToSchema: number } {
  let taken = 0;
  let leftToSchema = 0;
  for (const text of messages) {
    const json = JSON.parse(text) as object;
    const fast = json === null ? null : shortcut(json);
    const full = schema.safeParse(json);
    if (fast === null) {
      if (full.success) leftToSchema++;
      continue;
    }
    taken++;
    expect(full.success, text).toBe(true);
    expect(fast, text).toEqual(full.data);
    alsoTrue(fast, text);
  }
  return { taken, leftToSchema };
}
