import type { IPoint } from 'influx';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.ts';
import { IngestMetrics } from '../../../ingest/metrics.ts';
import { IngestStatsReporter } from '../../../ingest/stats-reporter.ts';

const logger = createLogger('test', 'silent');

describe('IngestStatsReporter', () => {
  it('writes counts per interval tagged source=ingest, and keeps counts of a failed write for the next point', async () => {
    const metrics = new IngestMetrics();
    const written: IPoint[] = [];
    let fail = false;
    let clock = 100_000;
    const reporter = new IngestStatsReporter({
      metrics,
      network: 'lab',
      intervalMs: 10_000,
      logger,
      now: () => clock,
      writer: {
        writePoints: async (points) => {
          if (fail) throw new Error('connect ECONNREFUSED');
          written.push(...points);
        },
      },
    });
    metrics.accepted.inc(40);
    metrics.reject('malformed');
    metrics.reject('late');
    metrics.frames.inc(3);
    metrics.watermark.set(95);
    clock = 110_000;
    await reporter.flush();
    expect(written[0]).toMatchObject({
      measurement: 'pipeline',
      tags: { network: 'lab', source: 'ingest' },
      timestamp: 110_000,
    });
    expect(written[0].fields).toEqual({
      accepted: 40,
      rejected: 2,
      late: 1,
      frames_published: 3,
      interval_ms: 10_000,
      watermark_lag_ms: 15_000,
    });

    metrics.accepted.inc(5);
    fail = true;
    clock = 120_000;
    await expect(reporter.flush()).resolves.toBeUndefined();
    metrics.accepted.inc(7);
    fail = false;
    clock = 130_000;
    await reporter.stop();
    expect(written).toHaveLength(2);
    expect(written[1].fields).toMatchObject({
      accepted: 12,
      rejected: 0,
      late: 0,
      frames_published: 0,
      interval_ms: 20_000,
    });
  });
});
