import { setTimeout as delay } from 'node:timers/promises';
import type { Consumer } from 'kafkajs';
import type { Logger } from '../common/log.ts';

/**
 * Keeping Kafka clients alive through broker outages. kafkajs retries a
 * request a bounded number of times and restarts a consumer only after
 * errors it classes as retriable; after a long outage it gives up with a
 * "non-retriable" error (`Failed to find group coordinator`, `Connection
 * error: connect ECONNREFUSED`) and the client stays dead. Here every client
 * comes back: consumers are rebuilt after a crash, sends are retried, forever,
 * with capped exponential backoff, and what is down is on a HealthBoard that
 * `/readyz` reads.
 *
 * Generic on purpose: any kafkajs consumer (the transport's, the topology
 * follower's) can be supervised with `superviseConsumer`.
 */

/** What is currently broken, by component; empty when everything works. */
export class HealthBoard {
  private readonly problems = new Map<string, { message: string; since: number }>();

  set(component: string, message: string): void {
    const since = this.problems.get(component)?.since ?? Date.now();
    this.problems.set(component, { message, since });
  }

  /** What is wrong with one component, or null when nothing is. */
  get(component: string): string | null {
    return this.problems.get(component)?.message ?? null;
  }

  clear(component: string): void {
    this.problems.delete(component);
  }

  /** One line per broken component, with how long it has been broken. */
  list(now = Date.now()): string[] {
    return [...this.problems].map(
      ([component, p]) => `${component}: ${p.message} (for ${Math.round((now - p.since) / 1000)} s)`,
    );
  }

  get ok(): boolean {
    return this.problems.size === 0;
  }
}

/** Capped exponential backoff: base, 2×base, 4×base … up to max. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);

/** What kafkajs's errors carry that tells one failure from another. */
interface KafkaErrorLike {
  name?: string;
  type?: string;
  retriable?: boolean;
  message?: string;
  cause?: unknown;
}

/** An error and the `cause`s kafkajs wraps in it, outermost first (at most 10: a cycle cannot hang). */
function* causeChain(error: unknown): Generator<KafkaErrorLike> {
  let e = error as KafkaErrorLike | undefined;
  for (let depth = 0; e && depth < 10; depth++) {
    yield e;
    e = e.cause as KafkaErrorLike | undefined;
  }
}

/**
 * Whether an error means "Kafka is not reachable right now" (worth retrying
 * forever) rather than "this request is wrong" (message too large, topic or
 * authorization errors, which would fail the same way again). kafkajs wraps
 * the cause of a give-up in `cause`, so the whole chain is looked at.
 */
export function isTransientKafkaError(error: unknown): boolean {
  for (const e of causeChain(error)) {
    if (e.name && TRANSIENT_NAMES.has(e.name)) return true;
    if (e.retriable === true) return true;
    if (
      typeof e.message === 'string' &&
      /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|group coordinator|not the correct coordinator|leader not available|not leader/i.test(
        e.message,
      )
    )
      return true;
  }
  return false;
}

/**
 * What a transient Kafka error means for someone reading the log: a missing
 * topic (a typo in a topic name, or a topic not created yet) is not an
 * unreachable broker.
 */
export function kafkaWaitReason(error: unknown): string {
  for (const e of causeChain(error)) {
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION' || /does not host this topic-partition/i.test(e.message ?? ''))
      return 'Kafka has no such topic (not created yet, or a wrong topic name)';
    if (e.type === 'LEADER_NOT_AVAILABLE' || e.type === 'NOT_LEADER_FOR_PARTITION')
      return 'Kafka is electing a partition leader';
  }
  return 'Kafka unreachable';
}

export interface SupervisedConsumerOptions {
  /** Names the consumer in logs and on the health board, e.g. `consumer wsn-ingest`. */
  name: string;
  /**
   * A fresh, not yet connected consumer (a crashed kafkajs consumer is not reused), made with `retry` as its kafkajs
   * `retry`: kafkajs restarts a crashed consumer on a timer it sets after the disconnect a crash runs, so a close
   * during a broker outage could be followed by a restart, and the process would never end; `retry` says no once closed.
   */
  create: (retry: ConsumerRetry) => Consumer;
  /** Connects, subscribes and runs it. */
  start: (consumer: Consumer) => Promise<void>;
  logger: Logger;
  health?: HealthBoard;
  /** First wait before a rebuild, ms (default 1,000); doubles per failed rebuild up to maxBackoffMs (default 30,000). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The kafkajs consumer `retry` of a supervised consumer (kafkajs's default retries). */
export interface ConsumerRetry {
  retries: number;
  restartOnFailure: () => Promise<boolean>;
}

export interface SupervisedConsumer {
  /** The consumer currently running. */
  readonly current: Consumer;
  /** How many times it was rebuilt after a crash. */
  readonly restarts: number;
  close(): Promise<void>;
}

/**
 * Runs a consumer and rebuilds it whenever kafkajs gives up on it (a crash
 * event with `restart: false`), forever, until closed. The first start
 * throws like an unsupervised one, so a wrong address still fails fast.
 * While it is down the health board says so; a group join clears it.
 */
export async function superviseConsumer(options: SupervisedConsumerOptions): Promise<SupervisedConsumer> {
  const { name, logger, health } = options;
  const minBackoff = options.minBackoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  let closed = false;
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;
  let current: Consumer;
  const retry: ConsumerRetry = { retries: 5, restartOnFailure: async () => !closed };

  const watch = (consumer: Consumer): void => {
    consumer.on(consumer.events.GROUP_JOIN, () => health?.clear(name));
    consumer.on(consumer.events.CRASH, (event) => {
      if (closed || consumer !== current) return;
      const error = event.payload.error as Error;
      if (event.payload.restart) {
        // kafkajs restarts this one itself; it is down until it joins again.
        health?.set(name, `crashed (${error.message}); kafkajs is restarting it`);
        return;
      }
      health?.set(name, `crashed (${error.name}: ${error.message}); rebuilding it`);
      logger.warn({ consumer: name, err: error.message }, 'Kafka consumer gave up; rebuilding it');
      schedule(1);
    });
  };

  const schedule = (attempt: number): void => {
    if (closed) return;
    const wait = backoffMs(attempt, minBackoff, maxBackoff);
    timer = setTimeout(() => {
      void rebuild(attempt);
    }, wait);
  };

  const rebuild = async (attempt: number): Promise<void> => {
    if (closed) return;
    await current.disconnect().catch(() => undefined);
    const consumer = options.create(retry);
    current = consumer;
    watch(consumer);
    try {
      await options.start(consumer);
      restarts++;
      logger.info({ consumer: name, attempt, restarts }, 'Kafka consumer rebuilt; waiting to rejoin its group');
    } catch (error) {
      const wait = backoffMs(attempt + 1, minBackoff, maxBackoff);
      health?.set(name, `cannot reconnect (${(error as Error).message}); next try in ${Math.round(wait / 1000)} s`);
      logger.warn(
        { consumer: name, attempt, err: (error as Error).message, retryInMs: wait },
        'Kafka consumer could not reconnect; retrying',
      );
      schedule(attempt + 1);
    }
  };

  current = options.create(retry);
  watch(current);
  await options.start(current);
  return {
    get current() {
      return current;
    },
    get restarts() {
      return restarts;
    },
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      health?.clear(name);
      await current.disconnect();
    },
  };
}

export interface RetryForeverOptions {
  /** Names the operation in logs and on the health board. */
  name: string;
  logger: Logger;
  health?: HealthBoard;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Aborted: no further attempt; the wait for the next one ends and the operation's last error is thrown (the
   * operation's owner closed, or a stop that must end).
   */
  giveUp?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}

/** Waits `ms` (with `sleep` when given: tests), over early when `signal` aborts. */
async function sleepUnless(ms: number, sleep?: (ms: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  if (!sleep) {
    // The timer is cancelled on abort: a pending retry does not hold a stopping process open.
    await delay(ms, undefined, { signal }).catch(() => undefined);
    return;
  }
  if (!signal) return sleep(ms);
  let onAbort = (): void => undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([sleep(ms), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Runs `operation` until it succeeds, retrying transient Kafka errors forever
 * with capped backoff; other errors are thrown at once. Used for sends: the
 * same producer retries the same messages, so an idempotent producer's
 * sequence numbers let the broker drop a copy it already has.
 */
export async function retryTransient<T>(operation: () => Promise<T>, options: RetryForeverOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await operation();
      if (attempt > 1) {
        options.health?.clear(options.name);
        options.logger.info({ operation: options.name, attempts: attempt }, 'operation went through after retries');
      }
      return result;
    } catch (error) {
      // A function, not a property read: the signal aborts while we wait, which a narrowed type would not see.
      const givenUp = (): boolean => options.giveUp?.aborted === true;
      if (!isTransientKafkaError(error) || givenUp()) throw error;
      const wait = backoffMs(attempt, options.minBackoffMs ?? 500, options.maxBackoffMs ?? 15_000);
      const reason = kafkaWaitReason(error);
      options.health?.set(options.name, `${reason} (${(error as Error).message}); retrying`);
      options.logger.warn(
        { operation: options.name, attempt, err: (error as Error).message, retryInMs: wait },
        `${reason}; retrying`,
      );
      await sleepUnless(wait, options.sleep, options.giveUp);
      if (givenUp()) throw error;
    }
  }
}
