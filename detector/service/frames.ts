import { z } from 'zod';
import { isObject, keysWithin } from '../../common/plain-object.ts';
import { describeZodIssues } from '../../common/zod-issues.ts';
import type { Frame } from '../../common/types.ts';

const FrameNodeSchema = z.object({
  node: z.string().min(1),
  values: z.record(z.string(), z.number().nullable()),
  staleTicks: z.number().int().nonnegative(),
  silent: z.boolean(),
});

export const FrameSchema = z.object({
  network: z.string().min(1),
  cluster: z.string().min(1),
  tick: z.number().int(),
  topologyVersion: z.string(),
  nodes: z.array(FrameNodeSchema),
});

const FRAME_KEYS = new Set(['network', 'cluster', 'tick', 'topologyVersion', 'nodes']);
const NODE_KEYS = new Set(['node', 'values', 'staleTicks', 'silent']);

/** Exactly `keys`, no more and no fewer (every key of a frame is required). */
const hasOnly = (value: object, keys: ReadonlySet<string>): boolean => keysWithin(value, keys) === keys.size;

/**
 * The parsed message itself when it is plainly a valid frame (exactly the
 * schema's keys, every field of its type), else null. Every frame it accepts,
 * FrameSchema accepts with the same data: it checks in place what the schema
 * would check by building a copy of every node, on each of a replica's frames.
 * Anything else goes through the schema, which names what is wrong.
 */
export function plainFrame(json: unknown): Frame | null {
  if (!isObject(json) || !hasOnly(json, FRAME_KEYS)) return null;
  const { network, cluster, tick, topologyVersion, nodes } = json;
  if (typeof network !== 'string' || network === '' || typeof cluster !== 'string' || cluster === '') return null;
  if (!Number.isSafeInteger(tick) || typeof topologyVersion !== 'string' || !Array.isArray(nodes)) return null;
  for (const node of nodes as unknown[]) {
    if (!isObject(node) || !hasOnly(node, NODE_KEYS)) return null;
    const { values, staleTicks } = node;
    if (typeof node.node !== 'string' || node.node === '' || typeof node.silent !== 'boolean') return null;
    if (!Number.isSafeInteger(staleTicks) || (staleTicks as number) < 0 || !isObject(values)) return null;
    for (const modality in values) {
      const value = values[modality];
      if (modality === '__proto__' || (value !== null && !(typeof value === 'number' && Number.isFinite(value))))
        return null;
    }
  }
  return json as unknown as Frame;
}

export type FrameDecoding = { ok: true; frame: Frame } | { ok: false; reason: string };

/** Parses one `wsn.frames` message; a bad one gets a reason naming the field, never an exception. */
export function decodeFrame(value: Buffer): FrameDecoding {
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  let frame = plainFrame(json);
  if (frame === null) {
    const parsed = FrameSchema.safeParse(json);
    if (!parsed.success) return { ok: false, reason: describeZodIssues(parsed.error) };
    frame = parsed.data;
  }
  const seen = new Set<string>();
  for (const node of frame.nodes) {
    if (seen.has(node.node)) return { ok: false, reason: `nodes: node ${node.node} appears twice` };
    seen.add(node.node);
  }
  return { ok: true, frame };
}
