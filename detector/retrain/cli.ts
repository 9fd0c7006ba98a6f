/**
 * `wsn-watch retrain --since 7d`: trains a candidate model on the network's
 * recent history stored in InfluxDB, leaving out what was not normal, and
 * registers it (never promotes it). docs/operations.md#retraining-on-recent-history.
 */
import { Option, type Command } from 'commander';
import { durationArg, instantArg, integerArg } from '../../common/cli-parsers.ts';
import { loadConfig } from '../../common/config.ts';
import { addTrainingOptions } from '../../model/train/cli-options.ts';
import { UserError } from '../../common/errors.ts';
import { parseDuration } from '../../common/silences.ts';
import { runRetrain, type RetrainOptions } from './run.ts';
import { runRetrainSchedule } from './schedule-run.ts';

type RetrainFlags = Omit<RetrainOptions, 'since'> & {
  since?: number;
  network?: string;
  /** true: the flag without a value (config retrain.every). */
  every?: string | true;
  shadowFor?: string;
  autoPromote?: boolean;
};

const EXAMPLES = `
Reads the readings of the network's anomaly points in InfluxDB over the
period (in pages of --page-rows), leaves out alerted node-ticks, silenced
ones and alerts marked true (each with --margin-ticks either side), keeps
alerts marked false alarms as clean data, aligns the rest on the ingest's
tick grid like \`train --history\`, trains, and registers the model as a new
version whose parent is the promoted one. Promote it yourself after checking
it (\`wsn-watch model promote VERSION\`).

Examples:
  wsn-watch retrain --since 7d
  wsn-watch retrain --since 14d --until 2026-03-01T00:00:00Z --epochs 10 --network lab
  wsn-watch retrain --every 7d --shadow-for 1d      a schedule: retrain, shadow, compare each week
  wsn-watch retrain --every --auto-promote          retrain.every from the configuration; promote what passes`;

export function registerRetrainCommand(program: Command): void {
  const command = program
    .command('retrain')
    .description('train a candidate model on the recent history stored in InfluxDB and register it (not promoted)')
    .option('--since <duration>', 'length of the period to learn from, e.g. 7d, 36h', durationArg('--since'))
    .option(
      '--every [duration]',
      'run on a schedule: each period retrain on it, shadow the candidate, compare after --shadow-for, promote when the gate passes and --auto-promote (default config retrain.every)',
    )
    .option(
      '--shadow-for <duration>',
      'with --every: how long the candidate is shadow-scored (config retrain.shadowFor)',
    )
    .option('--auto-promote', 'with --every: promote a candidate that passes the gate (config retrain.autoPromote)')
    .option('--until <iso>', 'end of the period (default now), e.g. 2026-03-01T00:00:00Z', instantArg('--until'))
    .option('--network <name>', 'sensor network (config network)')
    .option('--parent <version>', 'the version the candidate follows (default: the promoted version of the network)')
    .option(
      '--margin-ticks <n>',
      'ticks also left out before and after each alerted or silenced node-tick and confirmed alert',
      integerArg('--margin-ticks', 0),
      20,
    )
    .option('--page-rows <n>', 'most node-ticks read from InfluxDB per query', integerArg('--page-rows', 100), 20_000)
    .option(
      '--tick-ms <ms>',
      "tick of the grid, the same as the ingest's (default: config ingest.tickMs)",
      integerArg('--tick-ms', 1),
    )
    .option(
      '--max-gap-ticks <n>',
      'gaps (left-out node-ticks included) of up to n ticks hold the last value; longer ones are rebuilt from the other nodes',
      integerArg('--max-gap-ticks', 0),
      10,
    )
    .option('--topology <file>', 'node positions for the k-nearest graph; default: a complete graph')
    .option('--knn <k>', 'with --topology: edges from each node to its k nearest nodes', integerArg('--knn', 1), 4)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    );
  addTrainingOptions(command)
    .addHelpText('after', EXAMPLES)
    .action(async (options: RetrainFlags, self: Command) => {
      const globals = self.optsWithGlobals<{ config?: string }>();
      const config = loadConfig({
        file: globals.config,
        flags: {
          network: options.network,
          ...(typeof options.every === 'string' ? { 'retrain.every': options.every } : {}),
          ...(options.shadowFor ? { 'retrain.shadowFor': options.shadowFor } : {}),
          ...(options.autoPromote ? { 'retrain.autoPromote': true } : {}),
        },
      });
      const given = { ...options, windowGiven: self.getOptionValueSource('window') !== 'default' };
      if (options.every !== undefined && options.since !== undefined)
        throw new UserError(
          'RETRAIN_USAGE',
          '--since and --every do not go together: a schedule retrains on each period of --every',
        );
      if (options.every !== undefined) {
        const { every, shadowFor, autoPromote } = config.retrain;
        await runRetrainSchedule(given, config, {
          everyMs: parseDuration(every),
          shadowForMs: parseDuration(shadowFor),
          autoPromote,
        });
        return;
      }
      if (options.since === undefined)
        throw new UserError('RETRAIN_USAGE', 'retrain needs --since DURATION (or --every for a schedule)');
      await runRetrain({ ...given, since: options.since }, config);
    });
}
