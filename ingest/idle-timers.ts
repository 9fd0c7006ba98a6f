import type { Config } from '../common/config.ts';
import type { Logger } from '../common/log.ts';
import type { IngestPipeline } from './pipeline.ts';

/** The two clocks of a running ingest service that move frames out without new readings. */
export interface IdleTimers {
  stop(): void;
}

/**
 * Starts both timers (unref'd: they never keep the process alive).
 * `lastArrival` is the wall-clock time of the last batch received.
 */
export function startIdleTimers(
  pipeline: Pick<IngestPipeline, 'maxEventTs' | 'advanceTo' | 'markIdle'>,
  ingest: Config['ingest'],
  logger: Logger,
  lastArrival: () => number,
): IdleTimers {
  // A live network that goes completely quiet sends nothing to move the
  // watermark: after a tick plus the allowed lateness of wall-clock quiet,
  // move event time to the wall clock so frames (with silent nodes) keep
  // coming. Only when the data is live (event time near the clock), never
  // during a replay of old data.
  const { tickMs, allowedLatenessMs, silenceMs } = ingest;
  const idleTimer = setInterval(
    () => {
      const now = Date.now();
      const maxEventTs = pipeline.maxEventTs;
      if (maxEventTs === null || now - lastArrival() < tickMs + allowedLatenessMs) return;
      if (now - maxEventTs > silenceMs + allowedLatenessMs + tickMs || maxEventTs > now) return;
      pipeline
        .advanceTo(now)
        .then((frames) => frames > 0 && logger.info({ frames }, 'quiet network: advanced event time to the clock'))
        .catch((error: unknown) => logger.error({ err: error }, 'idle advance failed'));
    },
    Math.max(1_000, Math.min(tickMs, 30_000)),
  );
  idleTimer.unref();
  // Partitions that stop sending must not hold the watermark back forever.
  const idlePartitions = setInterval(
    () => {
      pipeline
        .markIdle(Date.now(), ingest.partitionIdleMs)
        .catch((error: unknown) => logger.error({ err: error }, 'publishing frames after idle partitions failed'));
    },
    Math.max(100, Math.min(2_000, ingest.partitionIdleMs / 2)),
  );
  idlePartitions.unref();
  return {
    stop: () => {
      clearInterval(idleTimer);
      clearInterval(idlePartitions);
    },
  };
}
