import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopicsAndWait } from '../../../transport/kafka-topics.ts';

class KafkaLikeError extends Error {
  constructor(readonly type: string) {
    super(type);
  }
}

/** A stand-in for the admin client whose metadata lags CreateTopics, as a KRaft broker's can. */
function laggingAdmin(
  answers: Array<'unknown' | 'leaderless' | 'ready'>,
  createError?: Error,
  offsetAnswers: Array<'not-leader' | 'offsets'> = [],
): { admin: Admin; calls: string[] } {
  const calls: string[] = [];
  const admin = {
    createTopics: async () => {
      calls.push('create');
      if (createError) throw createError;
      return true;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      const answer = answers.shift() ?? 'ready';
      calls.push(answer);
      if (answer === 'unknown') throw new KafkaLikeError('UNKNOWN_TOPIC_OR_PARTITION');
      return {
        topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: answer === 'ready' ? 1 : -1 }] })),
      };
    },
    // The leader the metadata names may not answer for the partition yet.
    fetchTopicOffsets: async () => {
      const answer = offsetAnswers.shift() ?? 'offsets';
      calls.push(answer);
      if (answer === 'not-leader') throw new KafkaLikeError('NOT_LEADER_FOR_PARTITION');
      return [{ partition: 0, offset: '0', high: '0', low: '0' }];
    },
  } as unknown as Admin;
  return { admin, calls };
}

describe('createTopicsAndWait', () => {
  it('waits through unknown-topic and leaderless metadata until every partition has a leader', async () => {
    const { admin, calls } = laggingAdmin(['unknown', 'leaderless', 'ready']);
    await createTopicsAndWait(admin, [{ topic: 't', numPartitions: 1 }]);
    expect(calls).toEqual(['create', 'unknown', 'leaderless', 'ready', 'offsets']);
  });

  it('waits until the named leader answers for its partitions', async () => {
    const { admin, calls } = laggingAdmin(['ready', 'ready'], undefined, ['not-leader', 'offsets']);
    await createTopicsAndWait(admin, [{ topic: 't', numPartitions: 1 }]);
    expect(calls).toEqual(['create', 'ready', 'not-leader', 'ready', 'offsets']);
  });

  it('accepts a topic that another client created at the same moment', async () => {
    const { admin, calls } = laggingAdmin(['ready'], new KafkaLikeError('TOPIC_ALREADY_EXISTS'));
    await createTopicsAndWait(admin, [{ topic: 't', numPartitions: 1 }]);
    expect(calls).toEqual(['create', 'ready', 'offsets']);
  });

  it('passes other errors through', async () => {
    const { admin } = laggingAdmin([], new KafkaLikeError('INVALID_PARTITIONS'));
    await expect(createTopicsAndWait(admin, [{ topic: 't', numPartitions: 0 }])).rejects.toThrow('INVALID_PARTITIONS');
  });

  it('gives up after the timeout and says what it was waiting for', async () => {
    const { admin } = laggingAdmin(Array(100).fill('leaderless'));
    await expect(createTopicsAndWait(admin, [{ topic: 't', numPartitions: 1 }], { timeoutMs: 200 })).rejects.toThrow(
      /partitions without a leader: t\/0/,
    );
  });
});
