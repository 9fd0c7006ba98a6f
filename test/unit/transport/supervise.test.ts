import { EventEmitter } from 'node:events';
import type { Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.ts';
import {
  HealthBoard,
  isTransientKafkaError,
  kafkaWaitReason,
  retryTransient,
  superviseConsumer,
} from '../../../transport/supervise.ts';
import { waitFor } from '../../support/wait.ts';

const logger = createLogger('test', 'silent');

/** Just enough of a kafkajs consumer: events, and a start that can be made to fail. */
class FakeConsumer extends EventEmitter {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;
  disconnected = false;
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
  crash(error: Error, restart: boolean): void {
    this.emit(this.events.CRASH, { payload: { error, groupId: 'g', restart } });
  }
  join(): void {
    this.emit(this.events.GROUP_JOIN, { payload: {} });
  }
}

const kafkaError = (name: string, message: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(message), { name, ...extra });

describe('isTransientKafkaError', () => {
  it('sees an outage through kafkajs wrappers, and not a request that is wrong', () => {
    const refused = kafkaError('KafkaJSNonRetriableError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', {
      cause: kafkaError('KafkaJSConnectionError', 'connect ECONNREFUSED'),
    });
    expect(isTransientKafkaError(refused)).toBe(true);
    expect(isTransientKafkaError(kafkaError('KafkaJSNonRetriableError', 'Failed to find group coordinator'))).toBe(
      true,
    );
    expect(isTransientKafkaError(kafkaError('KafkaJSNumberOfRetriesExceeded', 'x'))).toBe(true);
    expect(
      isTransientKafkaError(
        kafkaError(
          'KafkaJSProtocolError',
          'The request included a message larger than the max message size the server will accept',
          { retriable: false },
        ),
      ),
    ).toBe(false);
    expect(isTransientKafkaError(new TypeError('bad'))).toBe(false);
  });
});

describe('kafkaWaitReason', () => {
  it('tells a missing topic and a leader election from an unreachable broker', () => {
    // What a producer gets for a topic that does not exist (kafkajs 2.2.4 against Kafka 4.4).
    const missing = kafkaError('KafkaJSNumberOfRetriesExceeded', 'This server does not host this topic-partition', {
      cause: kafkaError('KafkaJSProtocolError', 'This server does not host this topic-partition', {
        type: 'UNKNOWN_TOPIC_OR_PARTITION',
        retriable: true,
      }),
    });
    expect(isTransientKafkaError(missing)).toBe(true);
    expect(kafkaWaitReason(missing)).toBe('Kafka has no such topic (not created yet, or a wrong topic name)');
    expect(
      kafkaWaitReason(kafkaError('KafkaJSProtocolError', 'There is no leader', { type: 'LEADER_NOT_AVAILABLE' })),
    ).toBe('Kafka is electing a partition leader');
    expect(kafkaWaitReason(kafkaError('KafkaJSConnectionError', 'connect ECONNREFUSED 127.0.0.1:9092'))).toBe(
      'Kafka unreachable',
    );
  });

  it('is what the retry logs and puts on the health board', async () => {
    const lines: string[] = [];
    const health = new HealthBoard();
    let calls = 0;
    await retryTransient(
      async () => {
        if (++calls === 1)
          throw kafkaError('KafkaJSProtocolError', 'This server does not host this topic-partition', {
            type: 'UNKNOWN_TOPIC_OR_PARTITION',
            retriable: true,
          });
        expect(health.get('producer p')).toBe(
          'Kafka has no such topic (not created yet, or a wrong topic name) (This server does not host this topic-partition); retrying',
        );
      },
      {
        name: 'producer p',
        logger: createLogger('test', 'info', { write: (line: string) => void lines.push(line) }),
        health,
        sleep: async () => undefined,
      },
    );
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'Kafka has no such topic (not created yet, or a wrong topic name); retrying',
      'operation went through after retries',
    ]);
  });
});

describe('superviseConsumer', () => {
  it('rebuilds a consumer kafkajs gave up on, retries a failing rebuild, and reports it on the health board until it rejoins', async () => {
    const made: FakeConsumer[] = [];
    let failStarts = 0;
    const health = new HealthBoard();
    const supervised = await superviseConsumer({
      name: 'consumer g',
      create: () => {
        const consumer = new FakeConsumer();
        made.push(consumer);
        return consumer as unknown as Consumer;
      },
      start: async () => {
        if (failStarts > 0) {
          failStarts--;
          throw kafkaError('KafkaJSConnectionError', 'connect ECONNREFUSED');
        }
      },
      logger,
      health,
      minBackoffMs: 5,
      maxBackoffMs: 20,
    });
    expect(made).toHaveLength(1);
    // kafkajs restarts retriable crashes itself: no rebuild, but it is down until it rejoins.
    made[0].crash(kafkaError('KafkaJSNumberOfRetriesExceeded', 'x'), true);
    expect(health.list()[0]).toMatch(/^consumer g: crashed \(x\); kafkajs is restarting it/);
    made[0].join();
    expect(health.ok).toBe(true);
    // It gives up: rebuilt, the first two rebuilds fail (broker still down), the third one runs.
    failStarts = 2;
    made[0].crash(kafkaError('KafkaJSNonRetriableError', 'Failed to find group coordinator'), false);
    expect(health.list()[0]).toMatch(/Failed to find group coordinator/);
    await waitFor('three rebuilds and one restart', () => made.length === 4 && supervised.restarts === 1, 1_000, 5);
    expect(supervised.current).toBe(made[3]);
    expect(made[0].disconnected).toBe(true);
    expect(health.ok).toBe(false);
    made[3].join();
    expect(health.ok).toBe(true);
    // Crashes of a consumer already replaced are ignored; closing stops the rebuilding.
    made[0].crash(new Error('old'), false);
    await supervised.close();
    made[3].crash(new Error('after close'), false);
    await new Promise((r) => setTimeout(r, 40));
    expect(made).toHaveLength(4);
  });

  it('lets kafkajs restart a crashed consumer until it is closed, and not after', async () => {
    const retries: Array<{ retries: number; restartOnFailure: () => Promise<boolean> }> = [];
    const supervised = await superviseConsumer({
      name: 'consumer g',
      create: (retry) => {
        retries.push(retry);
        return new FakeConsumer() as unknown as Consumer;
      },
      start: async () => undefined,
      logger,
    });
    expect(retries).toHaveLength(1);
    expect(retries[0].retries).toBe(5);
    expect(await retries[0].restartOnFailure()).toBe(true);
    await supervised.close();
    // kafkajs asks after the disconnect its crash handling runs, which can come after our close.
    expect(await retries[0].restartOnFailure()).toBe(false);
  });
});

describe('retryTransient', () => {
  it('retries an outage until the operation goes through, then clears the health board', async () => {
    const health = new HealthBoard();
    let calls = 0;
    const waits: number[] = [];
    const result = await retryTransient(
      async () => {
        calls++;
        if (calls < 5) throw kafkaError('KafkaJSConnectionError', 'connect ECONNREFUSED');
        expect(health.ok).toBe(false);
        return 'sent';
      },
      {
        name: 'producer p',
        logger,
        health,
        minBackoffMs: 100,
        maxBackoffMs: 300,
        sleep: async (ms) => void waits.push(ms),
      },
    );
    expect(result).toBe('sent');
    expect(waits).toEqual([100, 200, 300, 300]);
    expect(health.ok).toBe(true);
  });

  it('throws a request error at once, and stops retrying when told to', async () => {
    let calls = 0;
    await expect(
      retryTransient(
        async () => {
          calls++;
          throw new TypeError('bad request');
        },
        { name: 'p', logger, sleep: async () => undefined },
      ),
    ).rejects.toThrow('bad request');
    expect(calls).toBe(1);
    // Closed while it waited (the sleep stands for the wait): no further attempt.
    const closing = new AbortController();
    await expect(
      retryTransient(
        async () => {
          calls++;
          throw kafkaError('KafkaJSConnectionError', 'down');
        },
        { name: 'p', logger, sleep: async () => closing.abort(), giveUp: closing.signal },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(2);
  });

  it('gives up when its signal aborts, ending the wait for the next attempt at once', async () => {
    const giveUp = new AbortController();
    let calls = 0;
    const began = performance.now();
    const retrying = retryTransient(
      async () => {
        calls++;
        throw kafkaError('KafkaJSConnectionError', `down ${calls}`);
      },
      // Without the abort the second attempt would come after 60 s.
      { name: 'p', logger, minBackoffMs: 60_000, maxBackoffMs: 60_000, giveUp: giveUp.signal },
    );
    setTimeout(() => giveUp.abort(), 50);
    await expect(retrying).rejects.toThrow('down 1');
    expect(calls).toBe(1);
    expect(performance.now() - began).toBeLessThan(5_000);
    // Aborted already: the first transient error is thrown without a wait.
    await expect(
      retryTransient(
        async () => {
          throw kafkaError('KafkaJSConnectionError', 'still down');
        },
        { name: 'p', logger, giveUp: giveUp.signal },
      ),
    ).rejects.toThrow('still down');
  });
});
