/** `wsn-watch eval live`: flags only; the wiring is in command.ts, the work in run.ts. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { runLiveEvalCommand, type LiveEvalFlags } from './command.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface LiveCliOptions extends LiveEvalFlags {
  seeds: string;
}

const positive =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${flag} needs a positive integer, got "${value}"`);
    return n;
  };

function seedList(text: string): number[] {
  const seeds = text.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new UserError(
      'OPTION_INVALID',
      `--seeds needs a comma-separated list of integers, got "${text}"`,
      'Pass e.g. --seeds 1,2,3.',
    );
  return seeds;
}

export function registerLiveEvalCommand(program: Command): void {
  const evaluate =
    program.commands.find((command) => command.name() === 'eval') ??
    program.command('eval').description('evaluate the detector and the baselines');
  evaluate
    .command('live')
    .description(
      'live-path evaluation: faults of every taxonomy kind (spike, stuck, noise, offset, gain, drift, dropout; 1 tick to hours) injected into the raw IBRL test days and a synthetic network, run through backtest (ingest alignment, detector, alert tracker); recall per kind, time to detect, localization (strict, and fault-caused: against the clean run of the same data), false alerts per node-day and event F1 for the model and both baselines',
    )
    .option('--data <dir>', 'IBRL folder (node.txt, readings/)', path.resolve(REPO_ROOT, '../shared/data/ibrl'))
    .option('--ibrl-model <dir>', 'model for the IBRL test days', 'models/ibrl')
    .option(
      '--synthetic-model <dir>',
      'model for the synthetic network; the network it was trained on (`train --synthetic`, from its metadata) is continued past its training samples',
      'models/default',
    )
    .option('--datasets <list>', 'ibrl, synthetic or both', 'ibrl,synthetic')
    .option('--seeds <list>', 'seeds (each its own fault plans)', '1,2,3')
    .option(
      '--runs-per-seed <n>',
      'injected runs per seed, each over the whole test part',
      positive('--runs-per-seed'),
      2,
    )
    .option(
      '--per-kind <n>',
      'faults of each kind per run (one fault at a time, an hour apart)',
      positive('--per-kind'),
      1,
    )
    .option('--test-days <n>', 'synthetic network: test days after its warm-up day', positive('--test-days'), 4)
    .option('--out <file>', 'write the tables as markdown')
    .option('--work-dir <dir>', 'where the events files of the runs go (default: a folder in the temp directory)')
    .option('--title <text>', 'heading line of the markdown (e.g. which model)')
    .option(
      '--log-alerts',
      'print every alert transition of the model in the clean run (fired, resolved) on stderr, in event time',
      false,
    )
    .option('--scores', "also write each run's per-node-tick scores (backtest --out format) to the work folder", false)
    .action(async (options: LiveCliOptions, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string }>();
      const base: Config = loadConfig({ file: globals.config });
      const note = (text: string): void => void process.stderr.write(`${text}\n`);
      const logger = createLogger('eval-live', process.env.WSN_LOG_LEVEL ?? 'warn');
      const seeds = seedList(options.seeds);
      await runLiveEvalCommand(options, { base, seeds, note, logger });
    });
}
