import { describe, expect, it } from 'vitest';
import { IngestMetrics } from '../../../ingest/metrics.ts';
import { skipReporter } from '../../../ingest/skip-report.ts';

describe('skipReporter', () => {
  it('counts every skipped tick, logs each skip with its range, and sums a burst into the next line let through', async () => {
    const metrics = new IngestMetrics();
    const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
    let clock = 0;
    const report = skipReporter({
      logger: {
        warn: ((fields: Record<string, unknown>, message: string) => lines.push({ fields, message })) as never,
      },
      count: (ticks) => metrics.skippedTicks.inc(ticks),
      tickMs: 5_000,
      linesPerWindow: 2,
      windowMs: 60_000,
      now: () => clock,
    });
    const hour = 3600_000;
    for (let i = 0; i < 5; i++) report({ from: i * 10 * hour, to: i * 10 * hour + 9 * hour, ticks: 6480 });
    expect(lines).toHaveLength(2);
    expect(lines[0].message).toMatch(/skipped 6480 empty ticks \(9\.00 h of 5 s ticks/);
    expect(lines[0].fields).toMatchObject({
      skippedTicks: 6480,
      from: '1970-01-01T00:00:00.000Z',
      to: '1970-01-01T09:00:00.000Z',
    });
    clock = 61_000;
    report({ from: 100 * hour, to: 101 * hour, ticks: 720 });
    expect(lines).toHaveLength(3);
    expect(lines[2].message).toMatch(/3 more skips \(19440 ticks\) were not logged since the last line/);
    expect((await metrics.registry.getSingleMetric('wsn_ingest_skipped_ticks_total')!.get()).values[0].value).toBe(
      5 * 6480 + 720,
    );
  });
});
