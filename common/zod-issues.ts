/**
 * How a failed zod parse is told to a user: every problem as `field: message`
 * (`(root)` for the value itself), so a bad config, record or file says what
 * is wrong and where.
 */
import type { z } from 'zod';

/** The problems of a failed parse, `; `-separated; at most `limit` of them when given. */
export function describeZodIssues(error: z.ZodError, limit?: number): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
