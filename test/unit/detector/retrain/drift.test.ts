import { describe, expect, it } from 'vitest';
import { driftReport } from '../../../../detector/retrain/drift.ts';
import { dailyErrors, type DailyError, type InfluxRows } from '../../../../store/influx-history.ts';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 10, 1);

/** Nodes a..e over 7 days; `recentError` sets the error of the last 2 days per node (earlier days 0.1). */
function days(recentError: Record<string, number>): DailyError[] {
  return Object.entries(recentError).flatMap(([node, recent]) =>
    Array.from({ length: 7 }, (_, d) => ({ node, day: D0 + d * DAY, error: d >= 5 ? recent : 0.1 + 0.001 * d })),
  );
}

const OPTIONS = { recentDays: 2, rise: 1.5, share: 0.3 };

describe('driftReport', () => {
  it('suggests retraining when many nodes rose together, listing the highest first', () => {
    const report = driftReport(days({ a: 0.3, b: 0.2, c: 0.1, d: 0.11, e: 0.1 }), OPTIONS);
    expect(report.nodes.map((n) => n.node).slice(0, 2)).toEqual(['a', 'b']);
    expect(report.nodes[0].ratio).toBeCloseTo(0.3 / 0.102, 6);
    expect(report.risen).toBe(2);
    expect(report.share).toBeCloseTo(0.4);
    expect(report.suggestRetraining).toBe(true);
  });

  it('does not for one node that rose alone (a fault, not drift)', () => {
    const report = driftReport(days({ a: 0.9, b: 0.1, c: 0.1, d: 0.1, e: 0.1 }), OPTIONS);
    expect(report.risen).toBe(1);
    expect(report.suggestRetraining).toBe(false);
  });

  it('compares only nodes with both earlier and recent days', () => {
    const daily = [...days({ a: 0.3 }), { node: 'new', day: D0 + 6 * DAY, error: 5 }];
    const report = driftReport(daily, OPTIONS);
    expect(report.nodes.map((n) => n.node)).toEqual(['a']);
  });
});

describe('dailyErrors', () => {
  it('asks InfluxDB for daily means per node and averages the modalities', async () => {
    const queries: string[] = [];
    const rows: InfluxRows = async (q) => {
      queries.push(q);
      return [
        { node: '1', time: D0, e0: 0.2, e1: 0.4 },
        { node: '1', time: D0 + DAY, e0: 0.1, e1: null },
      ];
    };
    const daily = await dailyErrors(rows, 'lab', { from: D0, until: D0 + 2 * DAY }, ['temperature', 'humidity']);
    expect(daily).toEqual([
      { node: '1', day: D0, error: expect.closeTo(0.3, 6) as number },
      { node: '1', day: D0 + DAY, error: 0.1 },
    ]);
    expect(queries[0]).toMatch(/MEAN\("err_temperature"\).*MEAN\("err_humidity"\).*GROUP BY time\(1d\), "node"/);
  });
});
