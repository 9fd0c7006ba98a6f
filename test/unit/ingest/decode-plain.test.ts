import { describe, expect, it } from 'vitest';
import { JsonReading, plainReading } from '../../../ingest/decode.ts';
import { expectShortcutWithinSchema } from '../../support/schema-shortcut.ts';

/**
 * The plain-reading shortcut skips the schema for readings that are plainly
 * valid. It must never accept what the schema refuses, nor give other data:
 * every combination of good and bad fields below is held to the schema.
 */
const NETWORKS = [undefined, 'lab', '', 3, null];
const NODES = ['12', 12, 0, '', -1, 1.5, 2 ** 60, null, ['12'], { id: 12 }];
const TIMES = [1_767_225_600_000, '2026-01-01T00:00:00Z', undefined, null, true];
const VALUES = [
  '{"temperature":21.4,"humidity":40}',
  '{"temperature":-0}',
  '{}',
  '{"temperature":"21.4"}',
  '{"temperature":null}',
  '{"":1}',
  '{"__proto__":1}',
  '{"constructor":1}',
  '[21.4]',
  'null',
  '{"temperature":{"value":1}}',
  '21.4',
];
const EXTRAS = ['', ',"unit":"C"', ',"__proto__":{"x":1}', ',"prototype":1'];

function* messages(): Generator<string> {
  for (const network of NETWORKS)
    for (const node of NODES)
      for (const ts of TIMES)
        for (const values of VALUES)
          for (const extra of EXTRAS) {
            const fields = [
              network === undefined ? null : `"network":${JSON.stringify(network)}`,
              `"node":${JSON.stringify(node)}`,
              ts === undefined ? null : `"ts":${JSON.stringify(ts)}`,
              `"values":${values}`,
            ].filter((field) => field !== null);
            yield `{${fields.join(',')}${extra}}`;
          }
}

describe('plainReading', () => {
  it('accepts only what the schema accepts, with the same data', () => {
    const { taken: plain, leftToSchema: schemaOnly } = expectShortcutWithinSchema(
      messages(),
      plainReading,
      JsonReading,
      (fast, text) => {
        expect(Object.keys(fast), text).toEqual(Object.keys(JsonReading.parse(JSON.parse(text))));
        // The full path's own checks before the schema would not have refused it either.
        expect(text, text).not.toMatch(/"(__proto__|constructor|prototype)"/);
        expect(fast.ts, text).toBeDefined();
      },
    );
    // The shortcut takes the common shapes (a node as text or number, both ts forms, with or without a network, a reading of -0) …
    expect(plain).toBe(2 * 3 * 2 * 2);
    // … and leaves to the schema what it does not take for sure (an extra key the schema strips).
    expect(schemaOnly).toBeGreaterThan(0);
  });

  it('takes the messages a network sends and nothing with a key it does not know', () => {
    expect(plainReading(JSON.parse('{"node":"12","ts":1767225600000,"values":{"temperature":21.4}}'))).toEqual({
      node: '12',
      ts: 1_767_225_600_000,
      values: { temperature: 21.4 },
    });
    expect(plainReading(JSON.parse('{"node":"12","ts":1767225600000,"values":{"temperature":21.4},"x":1}'))).toBeNull();
    expect(plainReading(JSON.parse('{"node":"12","values":{"temperature":21.4}}'))).toBeNull();
  });
});
