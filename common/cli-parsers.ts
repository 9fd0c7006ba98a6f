import { InvalidArgumentError } from 'commander';
import { parseDuration, parseInstant } from './silences.ts';

/**
 * Parsers for command-line option values, shared by every command so that a
 * bad value is refused with the same words everywhere: the flag, what it
 * needs, and what was given.
 */

/** An integer in [min, max]. */
export const integerArg =
  (flag: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} needs ${describeRange('an integer', min, max)}, got "${value}"`);
    }
    return n;
  };

/** A finite number above zero. */
export const positiveArg =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} needs a positive number, got "${value}"`);
    }
    return n;
  };

/** A probability in [0, 1]. */
export const probabilityArg =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !(n >= 0 && n <= 1)) {
      throw new InvalidArgumentError(`${flag} needs a probability in [0, 1], got "${value}"`);
    }
    return n;
  };

/** A fraction in (0, 1]. */
export const fractionArg =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !(n > 0 && n <= 1)) {
      throw new InvalidArgumentError(`${flag} needs a number in (0, 1], got "${value}"`);
    }
    return n;
  };

/** One of a fixed set of words. */
export const oneOfArg =
  <T extends string>(flag: string, values: readonly T[]) =>
  (value: string): T => {
    if (!(values as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${flag} must be one of ${values.join(', ')}, got "${value}"`);
    }
    return value as T;
  };

function describeRange(what: string, min: number, max: number): string {
  const lower = min > Number.MIN_SAFE_INTEGER;
  const upper = max < Number.MAX_SAFE_INTEGER;
  if (lower && upper) return `${what} in [${min}, ${max}]`;
  if (lower) return `${what} >= ${min}`;
  if (upper) return `${what} <= ${max}`;
  return what;
}

/** A value `parse` reads or refuses with a message; the refusal names the flag. */
const parsedArg =
  (parse: (text: string) => number) =>
  (flag: string) =>
  (value: string): number => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError(`${flag}: ${(error as Error).message}`);
    }
  };

/** A duration such as 7d, 36h, 90m → ms. */
export const durationArg = parsedArg(parseDuration);

/** An instant (ISO 8601) → UTC ms. */
export const instantArg = parsedArg(parseInstant);
