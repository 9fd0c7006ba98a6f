import type { Logger } from '../common/log.ts';
import type { SkippedTicks } from './align.ts';
import { HOUR_MS } from '../common/constants.ts';

export interface SkipReportOptions {
  logger: Pick<Logger, 'warn'>;
  /** Counts skipped ticks (wsn_ingest_skipped_ticks_total). */
  count(ticks: number): void;
  tickMs: number;
  /** At most this many log lines per window; the rest are summed into the next line. */
  linesPerWindow?: number;
  windowMs?: number;
  now?: () => number;
}

/**
 * The aligner's onSkip for a service: every skip is counted at once, and
 * logged with its time range; when skips come in a burst (more than
 * linesPerWindow a minute), the extra ones are summed and reported on the
 * next line that is let through, so no skip goes unmentioned for long and
 * the log is not flooded.
 */
export function skipReporter(options: SkipReportOptions): (skip: SkippedTicks) => void {
  const linesPerWindow = options.linesPerWindow ?? 5;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  let windowStart = Number.NEGATIVE_INFINITY;
  let lines = 0;
  let held = { skips: 0, ticks: 0 };
  return (skip) => {
    options.count(skip.ticks);
    const at = now();
    if (at - windowStart >= windowMs) {
      windowStart = at;
      lines = 0;
    }
    if (lines >= linesPerWindow) {
      held = { skips: held.skips + 1, ticks: held.ticks + skip.ticks };
      return;
    }
    lines += 1;
    const spanMs = skip.to - skip.from;
    options.logger.warn(
      {
        skippedTicks: skip.ticks,
        from: new Date(skip.from).toISOString(),
        to: new Date(skip.to).toISOString(),
        ...(held.skips > 0 ? { alsoSkippedEarlier: held } : {}),
      },
      `skipped ${skip.ticks} empty ticks (${(spanMs / HOUR_MS).toFixed(2)} h of ${options.tickMs / 1000} s ticks without any reading, beyond ingest.maxCatchUpMs)` +
        (held.skips > 0 ? `; ${held.skips} more skips (${held.ticks} ticks) were not logged since the last line` : ''),
    );
    held = { skips: 0, ticks: 0 };
  };
}
