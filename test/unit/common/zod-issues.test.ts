import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeZodIssues } from '../../../common/zod-issues.ts';
import { decodeFrame } from '../../../detector/service/frames.ts';

const Schema = z.object({ a: z.number(), b: z.object({ c: z.string() }), d: z.boolean() });

function issuesOf(value: unknown): z.ZodError {
  const parsed = Schema.safeParse(value);
  if (parsed.success) throw new Error('expected a failed parse');
  return parsed.error;
}

describe('describeZodIssues', () => {
  it('names every problem by its field path, nested ones dotted', () => {
    const text = describeZodIssues(issuesOf({ a: 'x', b: { c: 1 }, d: 'y' }));
    expect(text.split('; ').map((problem) => problem.split(':')[0])).toEqual(['a', 'b.c', 'd']);
  });

  it('says (root) for the value itself and keeps at most `limit` problems', () => {
    expect(describeZodIssues(issuesOf(42))).toMatch(/^\(root\): /);
    expect(describeZodIssues(issuesOf({ a: 'x', b: { c: 1 }, d: 'y' }), 2).split('; ')).toHaveLength(2);
  });

  it('is the reason a malformed frame is rejected with', () => {
    const decoded = decodeFrame(Buffer.from(JSON.stringify({ network: 'lab', tick: 'soon' })));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(/\btick: /);
  });
});
