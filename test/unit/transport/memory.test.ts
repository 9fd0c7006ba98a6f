import { describe, it, expect, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import { MemoryTransport } from '../../../transport/memory.ts';
import { murmur2, partitionForKey } from '../../../transport/partitioner.ts';
import type { IncomingBatch, Subscription } from '../../../common/transport.ts';
import { collectValues } from '../../support/transport.ts';
import { waitFor } from '../../support/wait.ts';

const transports: MemoryTransport[] = [];
function transport(options: ConstructorParameters<typeof MemoryTransport>[0] = {}): MemoryTransport {
  const t = new MemoryTransport({ retryBackoffMs: 5, ...options });
  transports.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

describe('partitioner', () => {
  it('matches the murmur2 of kafkajs (and so of the Java client)', () => {
    const require = createRequire(import.meta.url);
    const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: string) => number;
    for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'node-12', 'cluster-3', '日本語', 'x'.repeat(37)]) {
      expect(murmur2(key)).toBe(kafkajsMurmur2(key));
    }
  });

  it('keeps a key on one partition and spreads keys over all partitions', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = partitionForKey(`node-${i}`, 6);
      expect(p).toBe(partitionForKey(`node-${i}`, 6));
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(6);
      seen.add(p);
    }
    expect(seen.size).toBe(6);
  });
});

describe('MemoryTransport', () => {
  it('commits the offset a batch handler returns (BatchCommit) instead of the batch end; null commits nothing', async () => {
    const t = transport({ maxBatchSize: 2 });
    await t.ensureTopics([{ topic: 'r', partitions: 1 }]);
    const producer = await t.producer();
    await producer.send(
      'r',
      ['a', 'b', 'c', 'd', 'e'].map((value) => ({ key: 'k', value })),
    );
    const seen: string[] = [];
    const sub = await t.subscribe({
      groupId: 'g',
      topics: ['r'],
      fromBeginning: true,
      onBatch: async (b) => {
        seen.push(...b.messages.map((m) => m.value.toString()));
        // Saved state reached offset 1 after the first batch; after the others, nothing new saved.
        return { commitOffset: b.messages[0].offset === '0' ? '1' : null };
      },
    });
    await waitFor('all 5 messages', () => seen.length === 5);
    await sub.close();
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(t.committedOffsets('g')).toEqual({ 'r:0': 1 });
    // A new member of the group starts at the committed offset, not after what the first one read.
    const again: string[] = [];
    const next = await t.subscribe({
      groupId: 'g',
      topics: ['r'],
      onBatch: async (b) => void again.push(...b.messages.map((m) => m.value.toString())),
    });
    await waitFor('messages from offset 1', () => again.length === 4);
    await next.close();
    expect(again).toEqual(['b', 'c', 'd', 'e']);
  });

  it("delivers a key's messages in order on one partition, with offsets, headers and timestamps", async () => {
    const t = transport();
    await t.ensureTopics([{ topic: 'r', partitions: 3 }]);
    const producer = await t.producer();
    await producer.send('r', [
      { key: 'n1', value: 'a', headers: { h: '1' }, timestamp: 1000 },
      { key: 'n1', value: 'b', timestamp: 2000 },
      { key: 'n1', value: 'c', timestamp: 3000 },
    ]);
    const got: IncomingBatch[] = [];
    const sub = await t.subscribe({
      groupId: 'g',
      topics: ['r'],
      fromBeginning: true,
      onBatch: async (b) => void got.push(b),
    });
    await waitFor('3 messages', () => got.flatMap((b) => b.messages).length === 3);
    await sub.close();
    const messages = got.flatMap((b) => b.messages);
    expect(new Set(messages.map((m) => m.partition))).toEqual(new Set([partitionForKey('n1', 3)]));
    expect(messages.map((m) => [m.offset, m.value.toString(), m.timestamp])).toEqual([
      ['0', 'a', 1000],
      ['1', 'b', 2000],
      ['2', 'c', 3000],
    ]);
    expect(messages[0].headers).toEqual({ h: '1' });
  });

  it('redelivers a batch whose onBatch rejected, and commits only after success', async () => {
    const t = transport();
    const producer = await t.producer();
    await producer.send('r', [
      { key: 'k', value: 'one' },
      { key: 'k', value: 'two' },
    ]);
    const attempts: string[][] = [];
    let fail = 2;
    const sub = await t.subscribe({
      groupId: 'g',
      topics: ['r'],
      fromBeginning: true,
      onBatch: async (b) => {
        attempts.push(b.messages.map((m) => m.value.toString()));
        if (fail-- > 0) {
          expect(t.committedOffsets('g')['r:0']).toBe(0);
          throw new Error('sink down');
        }
      },
    });
    await waitFor('commit after success', () => t.committedOffsets('g')['r:0'] === 2);
    await sub.close();
    expect(attempts).toEqual([
      ['one', 'two'],
      ['one', 'two'],
      ['one', 'two'],
    ]);
  });

  it('resumes a group from its committed offset after a restart (no loss, no replay of committed work)', async () => {
    const t = transport();
    const producer = await t.producer();
    await producer.send('r', [
      { key: 'k', value: '1' },
      { key: 'k', value: '2' },
    ]);
    const { values: first, subscription: sub1 } = await collectValues(t, 'g', 'r');
    await waitFor('first run', () => first.length === 2);
    await sub1.close();
    await producer.send('r', [{ key: 'k', value: '3' }]);
    const { values: second, subscription: sub2 } = await collectValues(t, 'g', 'r');
    await waitFor('second run', () => second.length === 1);
    await sub2.close();
    expect(first).toEqual(['1', '2']);
    expect(second).toEqual(['3']);
  });

  it('starts at the end for a new group without fromBeginning, like auto.offset.reset=latest', async () => {
    const t = transport();
    const producer = await t.producer();
    await producer.send('r', [{ key: 'k', value: 'old' }]);
    const got: string[] = [];
    const sub = await t.subscribe({
      groupId: 'late',
      topics: ['r'],
      onBatch: async (b) => void got.push(...b.messages.map((m) => m.value.toString())),
    });
    await producer.send('r', [{ key: 'k', value: 'new' }]);
    await waitFor('new message', () => got.length === 1);
    await sub.close();
    expect(got).toEqual(['new']);
  });

  it('shares partitions among the members of a group and rebalances when one leaves', async () => {
    const t = transport();
    await t.ensureTopics([{ topic: 'r', partitions: 4 }]);
    const assignments: Record<string, Record<string, number[]>> = {};
    const seenBy: Record<string, Set<string>> = { a: new Set(), b: new Set() };
    const subscribe = (name: 'a' | 'b'): Promise<Subscription> =>
      t.subscribe({
        groupId: 'g',
        topics: ['r'],
        fromBeginning: true,
        onBatch: async (b) => b.messages.forEach((m) => seenBy[name].add(m.value.toString())),
        onAssignment: (a) => void (assignments[name] = a),
      });
    const a = await subscribe('a');
    const b = await subscribe('b');
    await waitFor(
      'two members with two partitions each',
      () => (assignments.a?.r?.length ?? 0) === 2 && (assignments.b?.r?.length ?? 0) === 2,
    );
    expect([...assignments.a.r, ...assignments.b.r].sort()).toEqual([0, 1, 2, 3]);

    const producer = await t.producer();
    const keys = Array.from({ length: 40 }, (_, i) => `node-${i}`);
    await producer.send(
      'r',
      keys.map((k) => ({ key: k, value: k })),
    );
    await waitFor('all 40 messages', () => seenBy.a.size + seenBy.b.size === 40);
    expect([...seenBy.a].filter((k) => seenBy.b.has(k))).toEqual([]);

    await b.close();
    await waitFor('a owns all partitions', () => assignments.a.r.length === 4);
    await producer.send('r', [
      { key: 'node-1', value: 'after' },
      { key: 'node-2', value: 'after2' },
    ]);
    await waitFor('a gets messages of every partition', () => seenBy.a.has('after') && seenBy.a.has('after2'));
    await a.close();
  });

  it('gives every group its own committed offsets', async () => {
    const t = transport();
    const producer = await t.producer();
    await producer.send('r', [{ key: 'k', value: 'x' }]);
    const counts = { g1: 0, g2: 0 };
    const s1 = await t.subscribe({
      groupId: 'g1',
      topics: ['r'],
      fromBeginning: true,
      onBatch: async (b) => void (counts.g1 += b.messages.length),
    });
    const s2 = await t.subscribe({
      groupId: 'g2',
      topics: ['r'],
      fromBeginning: true,
      onBatch: async (b) => void (counts.g2 += b.messages.length),
    });
    await waitFor('both groups', () => counts.g1 === 1 && counts.g2 === 1);
    await Promise.all([s1.close(), s2.close()]);
    expect(t.committedOffsets('g1')).toEqual({ 'r:0': 1 });
    expect(t.committedOffsets('g2')).toEqual({ 'r:0': 1 });
  });

  it('keeps only the latest message per key on a compacted topic, with stable offsets', async () => {
    const t = transport();
    await t.ensureTopics([{ topic: 'c', partitions: 1, compact: true }]);
    const producer = await t.producer();
    await producer.send('c', [
      { key: 'a', value: 'a1' },
      { key: 'b', value: 'b1' },
      { key: 'a', value: 'a2' },
    ]);
    const got: Array<[string, string]> = [];
    const sub = await t.subscribe({
      groupId: 'g',
      topics: ['c'],
      fromBeginning: true,
      onBatch: async (b) => void got.push(...b.messages.map((m): [string, string] => [m.offset, m.value.toString()])),
    });
    await waitFor('compacted view', () => got.length === 2);
    await sub.close();
    expect(got).toEqual([
      ['1', 'b1'],
      ['2', 'a2'],
    ]);
  });

  it('splits a long backlog into batches of at most maxBatchSize, in offset order', async () => {
    const t = transport({ maxBatchSize: 10 });
    const producer = await t.producer();
    await producer.send(
      'r',
      Array.from({ length: 35 }, (_, i) => ({ key: 'k', value: String(i) })),
    );
    const sizes: number[] = [];
    const values: string[] = [];
    const sub = await t.subscribe({
      groupId: 'g',
      topics: ['r'],
      fromBeginning: true,
      onBatch: async (b) => {
        sizes.push(b.messages.length);
        values.push(...b.messages.map((m) => m.value.toString()));
      },
    });
    await waitFor('35 messages', () => values.length === 35);
    await sub.close();
    expect(sizes).toEqual([10, 10, 10, 5]);
    expect(values).toEqual(Array.from({ length: 35 }, (_, i) => String(i)));
  });

  it('never lets two members process one partition at once across a rebalance, and redelivers the uncommitted batch', async () => {
    const t = transport();
    await t.ensureTopics([{ topic: 'r', partitions: 2 }]);
    const key = ['a', 'b', 'c', 'd', 'e', 'f'].find((k) => partitionForKey(k, 2) === 1) as string;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let aInFlight = false;
    let aStarted = false;
    const bSaw: Array<{ value: string; aInFlight: boolean }> = [];
    const a = await t.subscribe({
      groupId: 'g',
      topics: ['r'],
      fromBeginning: true,
      onBatch: async () => {
        aStarted = true;
        aInFlight = true;
        await gate;
        aInFlight = false;
      },
    });
    const producer = await t.producer();
    await producer.send('r', [{ key, value: 'm' }]);
    await waitFor('a starts the batch', () => aStarted);
    const b = await t.subscribe({
      groupId: 'g',
      topics: ['r'],
      fromBeginning: true,
      onBatch: async (batch) =>
        void bSaw.push(...batch.messages.map((m) => ({ value: m.value.toString(), aInFlight }))),
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(bSaw).toEqual([]);
    release();
    await waitFor('b gets the batch a did not commit', () => bSaw.length === 1);
    expect(bSaw).toEqual([{ value: 'm', aInFlight: false }]);
    await Promise.all([a.close(), b.close()]);
  });
});
