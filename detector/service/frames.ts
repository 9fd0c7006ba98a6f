import { z } from 'zod';
import { describeZodIssues } from '../../common/zod-issues.ts';
import type { Frame } from '../../common/types.ts';

const FrameNodeSchema = z.object({
  node: z.string().min(1),
  values: z.record(z.string(), z.number().nullable()),
  staleTicks: z.number().int().nonnegative(),
  silent: z.boolean(),
});

const FrameSchema = z.object({
  network: z.string().min(1),
  cluster: z.string().min(1),
  tick: z.number().int(),
  topologyVersion: z.string(),
  nodes: z.array(FrameNodeSchema),
});

export type FrameDecoding = { ok: true; frame: Frame } | { ok: false; reason: string };

/** Parses one `wsn.frames` message; a bad one gets a reason naming the field, never an exception. */
export function decodeFrame(value: Buffer): FrameDecoding {
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const parsed = FrameSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: describeZodIssues(parsed.error) };
  }
  const frame = parsed.data;
  const seen = new Set<string>();
  for (const node of frame.nodes) {
    if (seen.has(node.node)) return { ok: false, reason: `nodes: node ${node.node} appears twice` };
    seen.add(node.node);
  }
  return { ok: true, frame };
}
