import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { partitionForKey } from '../../../transport/partitioner.ts';
import type { IncomingMessage, Subscription } from '../../../common/transport.ts';
import { requireKafka, testAdmin } from '../../support/kafka.ts';
import { collectValues } from '../../support/transport.ts';
import { runId } from '../foundation/services.ts';
import { waitFor } from '../../support/wait.ts';

const config = loadConfig();

describe('KafkaTransport against the real broker', () => {
  const id = runId();
  const topic = `test.transport.${id}`;
  const compacted = `test.transport.compact.${id}`;
  const trickle = `test.transport.trickle.${id}`;
  const transport = new KafkaTransport({
    brokers: config.kafka.brokers,
    clientId: `test-${id}`,
    retryBackoffMs: 100,
    sessionTimeoutMs: 10_000,
  });
  const admin = testAdmin(config, `test-admin-${id}`);

  beforeAll(async () => {
    await requireKafka(config);
    await admin.connect();
    await transport.ensureTopics([
      { topic, partitions: 3 },
      { topic: compacted, partitions: 1, compact: true },
    ]);
  });

  afterAll(async () => {
    await transport.close();
    await admin.deleteTopics({ topics: [topic, compacted, trickle] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('creates topics with their partitions and cleanup.policy=compact, and is idempotent', async () => {
    await transport.ensureTopics([
      { topic, partitions: 3 },
      { topic: compacted, partitions: 1, compact: true },
    ]);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic, compacted] });
    expect(metadata.topics.find((t) => t.name === topic)?.partitions.length).toBe(3);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: compacted, configNames: ['cleanup.policy'] }],
    });
    expect(configs.resources[0].configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe(
      'compact',
    );
  });

  it('produces keyed messages, consumes them in a group, redelivers a failed batch and commits only after success', async () => {
    const producer = await transport.producer();
    const keys = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5', 'node-6'];
    await producer.send(
      topic,
      keys.flatMap((key) =>
        [1, 2, 3].map((n) => ({
          key,
          value: `${key}:${n}`,
          headers: { n: String(n) },
          timestamp: 1_700_000_000_000 + n,
        })),
      ),
    );

    const groupId = `test-group-${id}`;
    const received: IncomingMessage[] = [];
    const attemptsByPartition = new Map<number, number>();
    let failedOnce = false;
    let assignment: Record<string, number[]> = {};
    const subscription: Subscription = await transport.subscribe({
      groupId,
      topics: [topic],
      fromBeginning: true,
      onAssignment: (a) => void (assignment = a),
      onBatch: async (batch) => {
        attemptsByPartition.set(batch.partition, (attemptsByPartition.get(batch.partition) ?? 0) + 1);
        if (!failedOnce) {
          failedOnce = true;
          throw new Error('first batch fails on purpose');
        }
        received.push(...batch.messages);
      },
    });
    await waitFor('all 18 messages', () => received.length >= 18);
    await subscription.close();
    await producer.close();

    expect(assignment[topic]?.sort()).toEqual([0, 1, 2]);
    // every message exactly once after the redelivery (none lost with the failed batch)
    expect(received.map((m) => m.value.toString()).sort()).toEqual(
      keys.flatMap((k) => [1, 2, 3].map((n) => `${k}:${n}`)).sort(),
    );
    expect(Math.max(...attemptsByPartition.values())).toBeGreaterThanOrEqual(2);
    for (const m of received) {
      expect(m.partition).toBe(partitionForKey(m.key as string, 3)); // same partitioner as the in-process transport
      expect(m.headers.n).toBe(m.value.toString().split(':')[1]);
      expect(m.timestamp).toBe(1_700_000_000_000 + Number(m.headers.n));
    }
    const perKey = new Map<string, string[]>();
    for (const m of received) perKey.set(m.key as string, [...(perKey.get(m.key as string) ?? []), m.value.toString()]);
    for (const [key, values] of perKey) expect(values).toEqual([1, 2, 3].map((n) => `${key}:${n}`));

    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    for (const p of committed[0].partitions) {
      expect(p.offset).toBe(ends.find((e) => e.partition === p.partition)?.high);
    }
  });

  it('commits nothing for a batch whose handler returns commitOffset: null: a restarted member replays it until a later batch commits', async () => {
    const groupId = `test-defer-${id}`;
    const deferred = `${topic}.defer`;
    await transport.ensureTopics([{ topic: deferred, partitions: 1 }]);
    const producer = await transport.producer();
    const run = async (commitWhen: (value: string) => boolean, expected: string): Promise<string[]> => {
      const seen: string[] = [];
      const s = await transport.subscribe({
        groupId,
        topics: [deferred],
        fromBeginning: true,
        onBatch: async (b) => {
          const values = b.messages.map((m) => m.value.toString());
          seen.push(...values);
          return values.some(commitWhen) ? undefined : { commitOffset: null };
        },
      });
      await waitFor(`message ${expected}`, () => seen.includes(expected), 30_000);
      await s.close();
      return seen;
    };
    try {
      await producer.send(deferred, [{ key: 'd', value: '1' }]);
      expect(await run(() => false, '1')).toEqual(['1']);
      await producer.send(deferred, [{ key: 'd', value: '2' }]);
      // Not committed: the new member reads 1 again before 2 (one batch or two); a batch holding 2 commits.
      expect(await run((value) => value === '2', '2')).toEqual(['1', '2']);
      await producer.send(deferred, [{ key: 'd', value: '3' }]);
      expect(await run(() => true, '3')).toEqual(['3']);
    } finally {
      await producer.close();
      await admin.deleteTopics({ topics: [deferred] }).catch(() => undefined);
    }
  });

  it('resumes a group after its committed offsets: a new member sees only new messages', async () => {
    const groupId = `test-resume-${id}`;
    const producer = await transport.producer();
    await producer.send(topic, [{ key: 'r', value: 'before' }]);
    const { values: first, subscription: s1 } = await collectValues(transport, groupId, topic);
    await waitFor('first run', () => first.includes('before'));
    await s1.close();
    await producer.send(topic, [{ key: 'r', value: 'after' }]);
    const { values: second, subscription: s2 } = await collectValues(transport, groupId, topic);
    await waitFor('second run', () => second.includes('after'));
    await s2.close();
    await producer.close();
    expect(second).toEqual(['after']);
  });
  it('with batchWaitMs, a trickle of messages comes in a few batches instead of one per fetch', async () => {
    await transport.ensureTopics([{ topic: trickle, partitions: 1 }]);
    const subscribe = async (groupId: string, batchWaitMs: number | undefined) => {
      const batches: number[] = [];
      let assigned = false;
      const subscription = await transport.subscribe({
        groupId,
        topics: [trickle],
        fromBeginning: true,
        batchWaitMs,
        onBatch: async (batch) => void batches.push(batch.messages.length),
        onAssignment: () => void (assigned = true),
      });
      return { batches, subscription, assigned: () => assigned };
    };
    const waiting = await subscribe(`test-trickle-wait-${id}`, 600);
    const eager = await subscribe(`test-trickle-eager-${id}`, undefined);
    await waitFor('both groups assigned', () => waiting.assigned() && eager.assigned(), 60_000);
    const producer = await transport.producer();
    // 40 messages over about a second, one at a time, as a live network sends readings.
    for (let n = 0; n < 40; n++) {
      await producer.send(trickle, [{ key: 'k', value: String(n) }]);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const total = (batches: number[]) => batches.reduce((sum, size) => sum + size, 0);
    await waitFor('every message in both groups', () => total(waiting.batches) === 40 && total(eager.batches) === 40);
    await Promise.all([producer.close(), waiting.subscription.close(), eager.subscription.close()]);
    // Held up to 600 ms per fetch: about one batch per 600 ms of sending, against one per fetch without the wait.
    expect(waiting.batches.length).toBeLessThanOrEqual(5);
    expect(eager.batches.length).toBeGreaterThan(waiting.batches.length);
  });
  it('a batch answered again comes again from its first message, with what followed it, and is committed only once handled', async () => {
    const again = `${topic}.again`;
    const groupId = `test-again-${id}`;
    await transport.ensureTopics([{ topic: again, partitions: 1 }]);
    const producer = await transport.producer();
    await producer.send(again, [{ key: 'a', value: 'first' }]);
    const batches: string[][] = [];
    const subscription = await transport.subscribe({
      groupId,
      topics: [again],
      fromBeginning: true,
      onBatch: async (batch) => {
        batches.push(batch.messages.map((m) => m.value.toString()));
        if (batches.length > 1) return;
        // The rest of the "tick" is published while the handler waits, as ingest publishes a tick's frames.
        await producer.send(again, [{ key: 'a', value: 'second' }]);
        return { again: true };
      },
    });
    await waitFor('both messages handled', () => batches.some((batch) => batch.includes('second')), 60_000);
    await subscription.close();
    await producer.close();
    expect(batches[0]).toEqual(['first']);
    expect(batches[1]).toEqual(['first', 'second']);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [again] });
    expect(committed.partitions[0].offset).toBe('2');
    await admin.deleteTopics({ topics: [again] }).catch(() => undefined);
  });

  it("with concurrentPartitions, hands over several partitions' batches at once", async () => {
    const producer = await transport.producer();
    // One message per partition of the 3-partition topic, there before the group starts.
    const keys = [0, 1, 2].map((p) =>
      Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => partitionForKey(k, 3) === p)!,
    );
    await producer.send(
      topic,
      keys.map((key) => ({ key, value: `concurrent:${key}` })),
    );
    await producer.close();
    let inFlight = 0;
    let most = 0;
    const partitions = new Set<number>();
    const subscription = await transport.subscribe({
      groupId: `test-concurrent-${id}`,
      topics: [topic],
      fromBeginning: true,
      concurrentPartitions: 3,
      onBatch: async (batch) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 300));
        partitions.add(batch.partition);
        inFlight -= 1;
      },
    });
    await waitFor('a batch of every partition', () => partitions.size === 3, 60_000);
    await subscription.close();
    expect(most).toBeGreaterThanOrEqual(2);
  });

  it('a handler that calls heartbeat keeps its partitions through a hand-over longer than the session timeout: delivered once, no rejoin', async () => {
    // The broker's shortest session (group.min.session.timeout.ms), so the hand-over outlasts it well within a test.
    const brief = new KafkaTransport({
      brokers: config.kafka.brokers,
      clientId: `test-brief-${id}`,
      retryBackoffMs: 100,
      sessionTimeoutMs: 6_000,
    });
    const long = `${topic}.long`;
    const groupId = `test-heartbeat-${id}`;
    try {
      await brief.ensureTopics([{ topic: long, partitions: 1 }]);
      const producer = await brief.producer();
      await producer.send(long, [{ key: 'h', value: 'long' }]);
      await producer.close();
      const delivered: string[] = [];
      let assignments = 0;
      const subscription = await brief.subscribe({
        groupId,
        topics: [long],
        fromBeginning: true,
        onAssignment: () => void (assignments += 1),
        onBatch: async (batch) => {
          delivered.push(...batch.messages.map((m) => m.value.toString()));
          // Two and a half session timeouts of work in steps, beating between them as the detector does between runs.
          const until = Date.now() + 15_000;
          while (Date.now() < until) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            await batch.heartbeat?.();
          }
        },
      });
      try {
        // Without the heartbeats the broker expels the member after 6 s, the commit fails, and the message comes
        // again (and again): the offset is never committed.
        await waitFor(
          'the long hand-over committed',
          async () => {
            const [offsets] = await admin.fetchOffsets({ groupId, topics: [long] });
            return offsets?.partitions[0]?.offset === '1';
          },
          60_000,
        );
        expect(delivered).toEqual(['long']);
        expect(assignments).toBe(1);
      } finally {
        await subscription.close();
      }
    } finally {
      await brief.close();
      await admin.deleteTopics({ topics: [long] }).catch(() => undefined);
    }
  });
});
