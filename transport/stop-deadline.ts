import type { Logger } from '../common/log.ts';
import type { Transport } from '../common/transport.ts';

/**
 * The bound on a service's stop: past `timeoutMs` (kafka.stopTimeoutMs) the
 * transport stops retrying the sends and state writes Kafka has not taken, so
 * a stop during a broker outage, or after a topic was deleted, ends. What was
 * given up is replayed from the committed offsets by the next start.
 */
export function stopDeadline(transport: Transport, timeoutMs: number, logger: Logger): { clear(): void } {
  const timer = setTimeout(() => {
    logger.warn(
      { stopTimeoutMs: timeoutMs, problems: transport.health?.() },
      // A slow stop that Kafka keeps up with goes on: only a write that fails is given up.
      `stopping: still writing after ${timeoutMs / 1000} s (kafka.stopTimeoutMs); from now on a write Kafka does not take is given up`,
    );
    transport.stopRetrying?.();
  }, timeoutMs);
  return { clear: () => clearTimeout(timer) };
}
