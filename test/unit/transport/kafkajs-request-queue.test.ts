import { describe, expect, it } from 'vitest';
import { RequestQueue } from '../../../transport/kafkajs-request-queue.ts';

const quiet = { debug: () => undefined, warn: () => undefined };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function queue(maxInFlightRequests: number | null = null) {
  return new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'broker:9092',
    logger: quiet,
  });
}

/** Counts the checks of the queue's pending requests. */
function countChecks(q: ReturnType<typeof queue>): () => number {
  let checks = 0;
  const check = q.checkPendingRequests.bind(q);
  q.checkPendingRequests = () => {
    checks++;
    check();
  };
  return () => checks;
}

describe("kafkajs's request queue, fixed", () => {
  it('schedules no further check when nothing is pending (kafkajs 2.2.4 ran one every millisecond)', async () => {
    const q = queue();
    const checks = countChecks(q);
    // What a response does (fulfillRequest): check the queue once.
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    await sleep(60);
    expect(checks()).toBe(1);
  });

  it('still sends a request that waits for the end of a throttling, after it', async () => {
    const q = queue();
    const sent: number[] = [];
    const request = {
      correlationId: 7,
      expectResponse: true,
      send: () => void sent.push(Date.now()),
    };
    q.throttledUntil = Date.now() + 40;
    q.pending.push(request);
    const queued = Date.now();
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    await sleep(150);
    expect(sent).toHaveLength(1);
    expect(sent[0] - queued).toBeGreaterThanOrEqual(35);
    expect(q.pending).toHaveLength(0);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });
});
