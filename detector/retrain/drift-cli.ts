/**
 * `wsn-watch drift`: the drift signal over the reconstruction errors stored in
 * InfluxDB (drift.ts), and whether it suggests `wsn-watch retrain`. This file
 * declares and checks the flags; drift-check.ts reads the errors and builds
 * the report.
 */
import type { Command } from 'commander';
import { fractionArg, integerArg, positiveArg } from '../../common/cli-parsers.ts';
import { loadConfig, type Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { checkDrift, formatDriftReport, type DriftCheckOptions } from './drift-check.ts';
import { DRIFT_DEFAULTS } from './drift.ts';

interface DriftFlags extends DriftCheckOptions {
  network?: string;
  json?: boolean;
}

async function driftCommand(flags: DriftFlags, config: Config): Promise<void> {
  if (flags.recent >= flags.days)
    throw new UserError('DRIFT_DAYS', `--recent (${flags.recent}) must be fewer than --days (${flags.days})`);
  const report = await checkDrift(config, flags);
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ network: config.network, ...report })}\n`
      : `${formatDriftReport(report, flags, config.network)}\n`,
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
      await driftCommand(flags, loadConfig({ file: globals.config, flags: { network: flags.network } }));
    });
}
