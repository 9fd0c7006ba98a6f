import { describe, expect, it } from 'vitest';
import { decodeFrame, FrameSchema, plainFrame } from '../../../../detector/service/frames.ts';
import { expectShortcutWithinSchema } from '../../../support/schema-shortcut.ts';

/**
 * The plain-frame shortcut checks a frame in place instead of building the
 * schema's copy. It must never accept what the schema refuses, nor give other
 * data: every combination of good and bad fields below is held to the schema.
 */
const TICKS = ['1767225600000', '1.5', '"1767225600000"', 'null', '1e300'];
const NETWORKS = ['"lab"', '""', '3'];
const VERSIONS = ['"v1"', '""', 'null'];
const NODES = [
  '{"node":"12","values":{"temperature":21.4,"humidity":null},"staleTicks":0,"silent":false}',
  '{"node":"7","values":{},"staleTicks":3,"silent":true}',
  '{"node":"","values":{"t":1},"staleTicks":0,"silent":false}',
  '{"node":12,"values":{"t":1},"staleTicks":0,"silent":false}',
  '{"node":"12","values":{"t":"1"},"staleTicks":0,"silent":false}',
  '{"node":"12","values":{"t":1e999},"staleTicks":0,"silent":false}',
  '{"node":"12","values":{"__proto__":1},"staleTicks":0,"silent":false}',
  '{"node":"12","values":[1],"staleTicks":0,"silent":false}',
  '{"node":"12","values":{"t":1},"staleTicks":-1,"silent":false}',
  '{"node":"12","values":{"t":1},"staleTicks":0.5,"silent":false}',
  '{"node":"12","values":{"t":1},"staleTicks":0,"silent":"no"}',
  '{"node":"12","values":{"t":1},"staleTicks":0}',
  '{"node":"12","values":{"t":1},"staleTicks":0,"silent":false,"extra":1}',
  'null',
];
const NODE_LISTS = [[], [0], [0, 1], [1, 0], ...NODES.slice(2).map((_, i) => [0, i + 2])];
const EXTRAS = ['', ',"x":1'];

function* messages(): Generator<string> {
  for (const tick of TICKS)
    for (const network of NETWORKS)
      for (const version of VERSIONS)
        for (const list of NODE_LISTS)
          for (const extra of EXTRAS)
            yield `{"network":${network},"cluster":"c1","tick":${tick},"topologyVersion":${version},"nodes":[${list.map((i) => NODES[i]).join(',')}]${extra}}`;
}

describe('plainFrame', () => {
  it('accepts only what the schema accepts, with the same data', () => {
    const { taken: plain, leftToSchema: schemaOnly } = expectShortcutWithinSchema(messages(), plainFrame, FrameSchema);
    // The good tick and network, either version (the schema allows an empty one), and a node list of the two good
    // nodes (none, one, both, either order).
    expect(plain).toBe(2 * 4);
    // An extra key (which the schema strips) goes through the schema.
    expect(schemaOnly).toBeGreaterThan(0);
  });

  it('decodes a frame either way with the same result and names a bad field', () => {
    const good =
      '{"network":"lab","cluster":"c1","tick":0,"topologyVersion":"v1","nodes":[{"node":"1","values":{"t":1},"staleTicks":0,"silent":false}]}';
    const extra = good.replace('"nodes"', '"x":1,"nodes"');
    expect(decodeFrame(Buffer.from(good))).toEqual(decodeFrame(Buffer.from(extra)));
    expect(decodeFrame(Buffer.from(good.replace('"staleTicks":0', '"staleTicks":-1')))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/nodes\.0\.staleTicks/),
    });
    const twice = good.replace(']}', ',{"node":"1","values":{},"staleTicks":0,"silent":false}]}');
    expect(decodeFrame(Buffer.from(twice))).toEqual({ ok: false, reason: 'nodes: node 1 appears twice' });
  });
});
