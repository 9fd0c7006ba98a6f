/**
 * The check behind `wsn-watch drift`: the network's daily reconstruction
 * errors read from InfluxDB, the drift report over them (drift.ts), and the
 * report as text.
 */
import type { Config } from '../../common/config.ts';
import { DAY_MS } from '../../common/constants.ts';
import { UserError } from '../../common/errors.ts';
import { dailyErrors, errorModalities } from '../../store/influx-history.ts';
import { driftReport, type DriftReport } from './drift.ts';
import { influxRows } from './run.ts';

/** The days looked at, the recent ones among them, and the rise and share that suggest retraining. */
export interface DriftCheckOptions {
  days: number;
  recent: number;
  rise: number;
  share: number;
}

const percent = (x: number): string => `${Math.round(100 * x)} %`;

/** The drift report of the network over the last `days` days up to now; DRIFT_NO_DATA when nothing is stored. */
export async function checkDrift(config: Config, options: DriftCheckOptions): Promise<DriftReport> {
  const rows = influxRows(config);
  const until = Date.now();
  const daily = await dailyErrors(
    rows,
    config.network,
    { from: until - options.days * DAY_MS, until },
    await errorModalities(rows),
  );
  if (daily.length === 0)
    throw new UserError(
      'DRIFT_NO_DATA',
      `no reconstruction errors of network ${config.network} in the last ${options.days} days`,
      'the detector writes them (err_<modality>) as it scores; check --network and influx.database',
    );
  return driftReport(daily, { recentDays: options.recent, rise: options.rise, share: options.share });
}

/** The report as `wsn-watch drift` prints it: a summary, the 20 most risen nodes, and the suggestion. */
export function formatDriftReport(report: DriftReport, options: DriftCheckOptions, network: string): string {
  const lines = [
    `drift: network ${network}, the last ${options.recent} day(s) against the ${options.days - options.recent} before: ${report.risen} of ${report.nodes.length} nodes' reconstruction error rose over ${options.rise}× (${percent(report.share)})`,
  ];
  const shown = report.nodes.slice(0, 20);
  const table = [
    ['NODE', 'EARLIER', 'RECENT', 'RATIO'],
    ...shown.map((n) => [n.node, n.baseline.toFixed(4), n.recent.toFixed(4), n.ratio.toFixed(2)]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table)
    lines.push(
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  if (report.nodes.length > shown.length) lines.push(`… and ${report.nodes.length - shown.length} more`);
  lines.push(
    report.suggestRetraining
      ? `suggests retraining (${percent(report.share)} ≥ ${percent(options.share)}): wsn-watch retrain --since ${options.days}d`
      : `no retraining suggested (${percent(report.share)} < ${percent(options.share)})`,
  );
  return lines.join('\n');
}
