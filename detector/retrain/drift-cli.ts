/**
 * `wsn-watch drift`: the drift signal over the reconstruction errors stored in
 * InfluxDB (drift.ts), and whether it suggests `wsn-watch retrain`.
 */
import type { Command } from 'commander';
import { fractionArg, integerArg, positiveArg } from '../../common/cli-parsers.ts';
import { loadConfig, type Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { dailyErrors, errorModalities } from '../../store/influx-history.ts';
import { DRIFT_DEFAULTS, driftReport, type DriftReport } from './drift.ts';
import { influxRows } from './run.ts';
import { DAY_MS } from '../../common/constants.ts';

interface DriftFlags {
  network?: string;
  days: number;
  recent: number;
  rise: number;
  share: number;
  json?: boolean;
}

const percent = (x: number): string => `${Math.round(100 * x)} %`;

function formatReport(report: DriftReport, flags: DriftFlags, network: string): string {
  const lines = [
    `drift: network ${network}, the last ${flags.recent} day(s) against the ${flags.days - flags.recent} before: ${report.risen} of ${report.nodes.length} nodes' reconstruction error rose over ${flags.rise}× (${percent(report.share)})`,
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
      ? `suggests retraining (${percent(report.share)} ≥ ${percent(flags.share)}): wsn-watch retrain --since ${flags.days}d`
      : `no retraining suggested (${percent(report.share)} < ${percent(flags.share)})`,
  );
  return lines.join('\n');
}

async function runDrift(flags: DriftFlags, config: Config): Promise<void> {
  if (flags.recent >= flags.days)
    throw new UserError('DRIFT_DAYS', `--recent (${flags.recent}) must be fewer than --days (${flags.days})`);
  const rows = influxRows(config);
  const until = Date.now();
  const daily = await dailyErrors(
    rows,
    config.network,
    { from: until - flags.days * DAY_MS, until },
    await errorModalities(rows),
  );
  if (daily.length === 0)
    throw new UserError(
      'DRIFT_NO_DATA',
      `no reconstruction errors of network ${config.network} in the last ${flags.days} days`,
      'the detector writes them (err_<modality>) as it scores; check --network and influx.database',
    );
  const report = driftReport(daily, { recentDays: flags.recent, rise: flags.rise, share: flags.share });
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ network: config.network, ...report })}\n`
      : `${formatReport(report, flags, config.network)}\n`,
  );
}

export function registerDriftCommand(program: Command): void {
  program
    .command('drift')
    .description(
      'the drift signal: the share of nodes whose reconstruction error rose over the days; suggests `retrain` when it is high',
    )
    .option('--network <name>', 'sensor network (config network)')
    .option('--days <n>', 'days of stored errors to look at', integerArg('--days', 2), DRIFT_DEFAULTS.days)
    .option(
      '--recent <n>',
      'the last n of them are compared with the days before',
      integerArg('--recent', 1),
      DRIFT_DEFAULTS.recentDays,
    )
    .option(
      '--rise <x>',
      "a node has risen when its recent error exceeds x × its earlier days' median",
      positiveArg('--rise'),
      DRIFT_DEFAULTS.rise,
    )
    .option(
      '--share <x>',
      'share of risen nodes from which retraining is suggested',
      fractionArg('--share'),
      DRIFT_DEFAULTS.share,
    )
    .option('--json', 'JSON instead of text')
    .action(async (flags: DriftFlags, self: Command) => {
      const globals = self.optsWithGlobals<{ config?: string }>();
      await runDrift(flags, loadConfig({ file: globals.config, flags: { network: flags.network } }));
    });
}
