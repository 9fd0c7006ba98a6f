import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

export interface BackpressureOptions {
  signal: AbortSignal;
  /** How far behind the pipeline is, in ticks. */
  backlog: () => number;
  /** Above this backlog the source waits. */
  maxBacklogTicks: number;
  /** Items between two looks at the backlog (default 50). */
  checkEvery?: number;
  /** Wait between two looks while over the limit, ms (default 20). */
  pollMs?: number;
}

/**
 * Passes items through, pausing while the pipeline behind them is more than
 * `maxBacklogTicks` behind. The in-process transport keeps every message in
 * memory, so a source faster than the detector would otherwise grow memory
 * without bound and push every alert further behind the readings. It also
 * yields to the event loop now and then: an in-memory send resolves at once,
 * and a source that never waits would starve timers and the dashboard's HTTP.
 */
export async function* withBackpressure<T>(items: AsyncIterable<T>, options: BackpressureOptions): AsyncGenerator<T> {
  const checkEvery = options.checkEvery ?? 50;
  const pollMs = options.pollMs ?? 20;
  let count = 0;
  for await (const item of items) {
    if (options.signal.aborted) return;
    if (++count % checkEvery === 0) {
      while (options.backlog() > options.maxBacklogTicks && !options.signal.aborted) await sleep(pollMs);
      await nextTurn();
    }
    yield item;
  }
}
