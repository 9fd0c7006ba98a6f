import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../common/errors.ts';
import type { ModelVersion } from '../../../../model/registry/store.ts';
import {
  decodePromoted,
  encodePromoted,
  promote,
  readPromoted,
  rollback,
} from '../../../../detector/registry/pointer.ts';
import { shadowRunOf, startShadow, stopShadow } from '../../../../detector/registry/pointer.ts';
import { formatVersionTable } from '../../../../detector/registry/format.ts';
import { MemoryTransport } from '../../../../transport/memory.ts';

function version(id: string, threshold: number, parent: string | null = null): ModelVersion {
  return {
    id,
    created: '2026-11-29T00:00:00.000Z',
    network: 'lab',
    parent,
    dataRange: { from: null, to: null, samples: null, source: 'synthetic' },
    metrics: { f1: 0.9 },
    threshold,
    path: id,
    sha256: `sha-${id}`,
    origin: 'test',
  };
}

describe('the promoted-version pointer', () => {
  it('a shadow rides along promotions and rollbacks, ends when its version is promoted, and is remembered', () => {
    const first = promote(undefined, 'lab', version('v1', 0.7), 'ana', 1_000);
    expect(() => startShadow(undefined, version('v2', 0.8), { network: 'lab', by: 'ana', now: 1_500 })).toThrow(
      /no model version is promoted/,
    );
    expect(() => startShadow(first, version('v1', 0.7), { network: 'lab', by: 'ana', now: 1_500 })).toThrow(
      /is the promoted one/,
    );
    const shadowing = startShadow(first, version('v2', 0.8), { network: 'lab', by: 'ana', now: 2_000 });
    expect(shadowing.shadow).toEqual({
      version: 'v2',
      sha256: 'sha-v2',
      threshold: 0.8,
      since: '1970-01-01T00:00:02.000Z',
      by: 'ana',
    });
    expect(() => startShadow(shadowing, version('v2', 0.8), { network: 'lab', by: 'ana', now: 2_500 })).toThrow(
      /already shadow-scored/,
    );
    // Another shadow replaces it; the first is remembered with its end.
    const other = startShadow(shadowing, version('v3', 0.9), { network: 'lab', by: 'ben', now: 3_000 });
    expect(other.shadow?.version).toBe('v3');
    expect(other.shadowed).toEqual([{ ...shadowing.shadow, until: '1970-01-01T00:00:03.000Z' }]);
    // Promoting another version keeps the shadow; promoting the shadowing one ends it.
    const promotedV2 = promote(other, 'lab', version('v2', 0.8), 'ben', 4_000);
    expect(promotedV2.shadow?.version).toBe('v3');
    const back = rollback(promotedV2, 'lab', 'ana', 5_000);
    expect(back.shadow?.version).toBe('v3');
    const promotedV3 = promote(back, 'lab', version('v3', 0.9), 'ana', 6_000);
    expect(promotedV3.shadow).toBeUndefined();
    expect(shadowRunOf(promotedV3, 'v3')?.until).toBe('1970-01-01T00:00:06.000Z');
    expect(shadowRunOf(promotedV3, 'v2')?.since).toBe('1970-01-01T00:00:02.000Z');
    expect(shadowRunOf(promotedV3, 'v1')).toBeUndefined();
    expect(() => stopShadow(promotedV3, 'lab', 7_000)).toThrow(/no model version is shadow-scored/);
    expect(stopShadow(other, 'lab', 7_000).shadow).toBeUndefined();
    // Round trip, and a record written before shadows existed still reads.
    expect(decodePromoted(encodePromoted(other))).toEqual(other);
    expect(decodePromoted(encodePromoted(first)).shadow).toBeUndefined();
    expect(() => decodePromoted(JSON.stringify({ ...other, shadow: { ...other.shadow, threshold: 2 } }))).toThrow(
      /field "shadow.threshold"/,
    );
  });

  it('promote pushes the current version; rollback goes back one step at a time', () => {
    const first = promote(undefined, 'lab', version('v1', 0.7), 'ana', 1_000);
    expect(first).toMatchObject({ version: 'v1', threshold: 0.7, by: 'ana', action: 'promote', previous: [] });
    const second = promote(first, 'lab', version('v2', 0.8, 'v1'), 'ben', 2_000);
    const third = promote(second, 'lab', version('v3', 0.9, 'v2'), 'ben', 3_000);
    expect(third.previous.map((p) => p.version)).toEqual(['v1', 'v2']);
    const back = rollback(third, 'lab', 'ana', 4_000);
    expect(back).toMatchObject({ version: 'v2', threshold: 0.8, sha256: 'sha-v2', action: 'rollback', by: 'ana' });
    expect(back.previous.map((p) => p.version)).toEqual(['v1']);
    const backAgain = rollback(back, 'lab', 'ana', 5_000);
    expect(backAgain.version).toBe('v1');
    expect(() => rollback(backAgain, 'lab', 'ana', 6_000)).toThrow(UserError);
    expect(() => rollback(undefined, 'lab', 'ana', 6_000)).toThrow(/no model version is promoted/);
    expect(() => promote(third, 'lab', version('v3', 0.9), 'ana', 7_000)).toThrow(/already the promoted one/);
  });

  it('round-trips through a compacted table; a bad record is reported with its field and skipped', async () => {
    const transport = new MemoryTransport();
    const table = transport.table({ topic: 'models', partitions: 1 });
    const record = promote(undefined, 'lab', version('v1', 0.7), 'ana', 1_000);
    await table.put([
      { key: 'lab', value: encodePromoted(record) },
      { key: 'broken', value: JSON.stringify({ ...record, network: 'broken', threshold: 3 }) },
    ]);
    const bad: string[] = [];
    const read = await readPromoted(table, (key, reason) => bad.push(`${key}: ${reason}`));
    expect(read.get('lab')).toEqual(record);
    expect(read.has('broken')).toBe(false);
    expect(bad).toEqual(['broken: field "threshold" must be a number in [0, 1]']);
    expect(() => decodePromoted('{"network":"x"}')).toThrow(/field "version"/);
    await table.close();
    await transport.close();
  });

  it('model list marks the promoted version and the ones promoted before', () => {
    const v1 = version('v1', 0.7);
    const v2 = version('v2', 0.8, 'v1');
    const v3 = version('v3', 0.9, 'v2');
    const first = promote(undefined, 'lab', v1, 'ana', Date.parse('2026-11-29T01:00:00Z'));
    const second = promote(first, 'lab', v2, 'ana', Date.parse('2026-11-29T02:00:00Z'));
    const lines = formatVersionTable([v1, v2, v3], second).split('\n');
    expect(lines[0]).toMatch(
      /^VERSION\s+CREATED\s+NETWORK\s+DATA\s+THRESHOLD\s+F1\s+FALSE ALERTS\s+PARENT\s+PROMOTED$/,
    );
    expect(lines[1]).toMatch(/^v1 .* 0\.700 .* -\s+before$/);
    expect(lines[2]).toMatch(/^v2 .* v1\s+promoted \(since 2026-11-29T02:00:00Z\)$/);
    expect(lines[3]).toMatch(/^v3 .* v2$/);
  });
});
