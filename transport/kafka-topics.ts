import kafkajs, { type Admin, type ITopicConfig } from 'kafkajs';
import type { Logger } from '../common/log.ts';

// kafkajs is CommonJS; Node's ESM loader cannot see every named export of it
// (ConfigResourceTypes), so take it from the default export.
const { ConfigResourceTypes } = kafkajs;

/** Kafka error types that mean "the cluster's metadata has not caught up yet". */
const NOT_YET = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
]);

function errorType(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'type' in error
    ? String((error as { type: unknown }).type)
    : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface CreateTopicsOptions {
  /** How long to wait for every partition to have a leader. */
  timeoutMs?: number;
}

/**
 * Creates topics and waits until every partition has a leader.
 *
 * kafkajs's own `waitForLeaders` retries only LEADER_NOT_AVAILABLE, but a
 * KRaft broker may answer the metadata request right after CreateTopics with
 * UNKNOWN_TOPIC_OR_PARTITION for a moment (its metadata image lags the
 * controller). That surfaced as a rare failure when several clients created
 * topics at once, so this waits through both, and then until the leaders
 * answer for their partitions. A topic that already exists
 * (another replica created it at the same moment) counts as created.
 */
export async function createTopicsAndWait(
  admin: Admin,
  topics: ITopicConfig[],
  options: CreateTopicsOptions = {},
): Promise<void> {
  if (topics.length === 0) return;
  try {
    await admin.createTopics({ waitForLeaders: false, topics });
  } catch (error) {
    if (errorType(error) !== 'TOPIC_ALREADY_EXISTS' && !/already exists/i.test((error as Error).message)) throw error;
  }
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  // Every pass of the loop sets it before the deadline check reads it.
  let lastProblem: string;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: names });
      const leaderless = metadata.topics.flatMap((t) =>
        t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}/${p.partitionId}`),
      );
      const found = new Set(metadata.topics.map((t) => t.name));
      const missing = names.filter((n) => !found.has(n));
      if (leaderless.length === 0 && missing.length === 0) {
        // The metadata can name a leader before that broker answers for the
        // partition (NOT_LEADER_FOR_PARTITION on ListOffsets): wait for the answer too, of all the topics at once.
        await Promise.all(names.map((name) => admin.fetchTopicOffsets(name)));
        return;
      }
      lastProblem =
        missing.length > 0
          ? `topics not in metadata: ${missing.join(', ')}`
          : `partitions without a leader: ${leaderless.join(', ')}`;
    } catch (error) {
      const type = errorType(error);
      if (!type || !NOT_YET.has(type)) throw error;
      lastProblem = type;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `created topics ${names.join(', ')} but they have no leaders after ${options.timeoutMs ?? 30_000} ms (${lastProblem}); is the broker healthy?`,
      );
    }
    await sleep(delay);
  }
}

/** The topic's cleanup.policy as the broker reports it. */
export async function cleanupPolicy(admin: Admin, topic: string): Promise<string> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
  });
  return described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? '';
}

/**
 * Switches an existing topic to cleanup.policy=compact unless it already
 * compacts: a table or topology topic someone created by hand with the
 * default policy would otherwise lose its oldest keys to retention.
 */
export async function ensureCompacted(admin: Admin, topic: string, logger: Logger): Promise<void> {
  const policy = await cleanupPolicy(admin, topic);
  if (policy.split(',').includes('compact')) return;
  logger.warn({ topic, policy }, 'topic is not compacted; setting cleanup.policy=compact');
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ],
  });
}
