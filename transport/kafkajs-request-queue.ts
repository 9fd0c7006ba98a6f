/**
 * A fix of kafkajs 2.2.4's request queue, applied when the Kafka transport
 * loads (before any connection exists).
 *
 * Every broker connection has a request queue. After each response it checks
 * its pending requests and then schedules the next check: with no request
 * pending and no throttling, the delay is negative, so the check runs again
 * a millisecond later, and again, for as long as the connection lives
 * (kafkajs issues #1556 and #1704, unreleased fix #1667). A detector holds
 * about ten connections (frames consumer, table readers, producers), so it
 * ran thousands of empty timers a second, idle or not.
 *
 * A check is only needed while requests are pending: a new request is sent
 * at once or queued with a check scheduled (`push`), and a response or a
 * timeout checks the queue again (`fulfillRequest`, the timeout handler).
 * So the check is scheduled only then, at the end of the throttling or
 * after kafkajs's own 10 ms interval, as before.
 */
import { createRequire } from 'node:module';

/** The part of kafkajs's RequestQueue the fix touches. */
export interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's interval between checks of a queue whose requests wait for the in-flight limit. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}

const require = createRequire(import.meta.url);

/** kafkajs's RequestQueue class (not exported by the package: loaded by path). */
export const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: {
  maxInFlightRequests: number | null;
  requestTimeout: number;
  enforceRequestTimeout: boolean;
  clientId: string;
  broker: string;
  logger: { debug(): void; warn(): void };
}) => RequestQueueInternals;

const prototype = RequestQueue.prototype as RequestQueueInternals;
if (typeof prototype.scheduleCheckPendingRequests !== 'function')
  throw new Error('kafkajs RequestQueue has no scheduleCheckPendingRequests: the request queue fix needs updating');
prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
