/**
 * Ingest statistics in InfluxDB, for the Grafana pipeline dashboard (the stack
 * has no Prometheus). Every interval one `pipeline` point tagged
 * `source=ingest`: counts since the previous point (accepted readings,
 * DLQ messages, late ones among them, frames published) and the interval
 * covered, so rates are sum(count) / sum(interval) for any grouping; plus the
 * watermark lag (wall clock − event-time watermark). Time is the wall clock:
 * these describe the service, not the sensors. Field names differ from the
 * detector's (`frames`, `event_lag_ms`) so its panels and rules are unchanged.
 * Writing is best effort: a failure is logged and never touches ingest.
 */
import type { IPoint } from 'influx';
import type { Logger } from '../common/log.ts';
import { MEASUREMENTS } from '../common/types.ts';
import type { IngestMetrics } from './metrics.ts';

export const INGEST_SOURCE = 'ingest';

export interface IngestCounts {
  accepted: number;
  rejected: number;
  late: number;
  frames: number;
  /** Event-time watermark, UTC ms; null before the first reading. */
  watermarkMs: number | null;
}

export interface StatsWriter {
  writePoints(points: IPoint[]): Promise<void>;
}

export async function readIngestCounts(metrics: IngestMetrics): Promise<IngestCounts> {
  const rejected = (await metrics.rejected.get()).values;
  const watermark = (await metrics.watermark.get()).values[0]?.value ?? 0;
  return {
    accepted: (await metrics.accepted.get()).values[0]?.value ?? 0,
    rejected: rejected.reduce((sum, v) => sum + v.value, 0),
    late: rejected.find((v) => v.labels.reason === 'late')?.value ?? 0,
    frames: (await metrics.frames.get()).values[0]?.value ?? 0,
    watermarkMs: watermark > 0 ? watermark * 1000 : null,
  };
}

/** The point for the interval (previousMs, nowMs]. */
export function ingestStatsPoint(
  network: string,
  previous: IngestCounts,
  current: IngestCounts,
  previousMs: number,
  nowMs: number,
): IPoint {
  const fields: Record<string, number> = {
    accepted: current.accepted - previous.accepted,
    rejected: current.rejected - previous.rejected,
    late: current.late - previous.late,
    frames_published: current.frames - previous.frames,
    interval_ms: nowMs - previousMs,
  };
  if (current.watermarkMs !== null) fields.watermark_lag_ms = nowMs - current.watermarkMs;
  return { measurement: MEASUREMENTS.pipeline, tags: { network, source: INGEST_SOURCE }, fields, timestamp: nowMs };
}

export class IngestStatsReporter {
  private timer: NodeJS.Timeout | null = null;
  private previous: IngestCounts = { accepted: 0, rejected: 0, late: 0, frames: 0, watermarkMs: null };
  private previousMs: number;
  private failing = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      metrics: IngestMetrics;
      writer: StatsWriter;
      network: string;
      intervalMs: number;
      logger: Logger;
      url?: string;
      now?: () => number;
    },
  ) {
    this.previousMs = this.now();
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Writes one point for the time since the last successful one; never rejects. */
  flush(): Promise<void> {
    this.running = this.running.then(async () => {
      const now = this.now();
      const current = await readIngestCounts(this.options.metrics);
      try {
        await this.options.writer.writePoints([
          ingestStatsPoint(this.options.network, this.previous, current, this.previousMs, now),
        ]);
        this.previous = current;
        this.previousMs = now;
        if (this.failing) this.options.logger.info('ingest statistics reach InfluxDB again');
        this.failing = false;
      } catch (error) {
        // Counts stay pending: the next successful point covers the gap.
        if (!this.failing)
          this.options.logger.warn(
            { err: (error as Error).message, url: this.options.url },
            'cannot write ingest statistics to InfluxDB; ingest goes on, retrying every interval',
          );
        this.failing = true;
      }
    });
    return this.running;
  }

  /** Stops the timer and writes the last interval. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
