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
      `stopping: Kafka has not taken the last writes within ${timeoutMs / 1000} s (kafka.stopTimeoutMs); gave up waiting for it`,
    );
    transport.stopRetrying?.();
  }, timeoutMs);
  return { clear: () => clearTimeout(timer) };
}
