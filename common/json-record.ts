/**
 * JSON records checked with a zod schema: how the small records of the
 * compacted topics that commands write (silences, operator feedback) are
 * encoded and read back. Reading one is the place where bad input arrives,
 * so a failure names every problem and its field.
 */
import type { z } from 'zod';
import { describeZodIssues } from './zod-issues.ts';

export interface JsonRecordCodec<T> {
  encode(record: T): string;
  /** Decodes one table value; throws the codec's format error saying what is wrong. */
  decode(value: Buffer | string): T;
  /** Whether `error` is the codec's format error (a bad record, not a failed read). */
  isFormatError(error: unknown): boolean;
}

/**
 * The codec of records of `schema`: `encode` is plain JSON, `decode` parses
 * and validates, throwing a `FormatError` (the record kind's own class, so
 * callers can tell a bad record from a failed read) whose message says what
 * is wrong.
 */
export function jsonRecordCodec<T>(
  schema: z.ZodType<T>,
  FormatError: new (message: string) => Error,
): JsonRecordCodec<T> {
  return {
    encode: (record) => JSON.stringify(record),
    decode: (value) => {
      let raw: unknown;
      try {
        raw = JSON.parse(value.toString());
      } catch (error) {
        throw new FormatError(`not JSON: ${(error as Error).message}`);
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) throw new FormatError(describeZodIssues(parsed.error));
      return parsed.data;
    },
    isFormatError: (error) => error instanceof FormatError,
  };
}
