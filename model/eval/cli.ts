import type { Command } from 'commander';
import { UserError } from '../../common/errors.ts';
import { TRAINING_DEFAULTS } from '../train/defaults.ts';
import { type IbrlEvalFlags, runIbrlEvalCommand } from './ibrl-command.ts';

function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new UserError('BAD_FLAG', `--${name} must be a non-negative integer, got "${value}"`);
    return n;
  };
}

/** Registers `wsn-watch eval ibrl`. */
export function registerEvalCommand(program: Command): void {
  const evaluate = program
    .command('eval')
    .description('Evaluate the detector and baselines on public data with the GLSL paper protocol');
  evaluate
    .command('ibrl')
    .description(
      'IBRL (Intel Lab) evaluation: 51 motes, temperature/humidity/voltage, 60 % train, 100 check points and 100 injections per seed',
    )
    .requiredOption('--data <dir>', 'IBRL folder with node.txt and readings/<id>.txt (e.g. ../shared/data/ibrl)')
    .option('--seeds <n>', 'number of seeds (each: own injections, own trained models)', positiveInt('seeds'), 5)
    .option('--first-seed <n>', 'first seed', positiveInt('first-seed'), 1)
    .option(
      '--epochs <n>',
      'training epochs per model (upper bound; early stopping may end sooner)',
      positiveInt('epochs'),
      TRAINING_DEFAULTS.epochs,
    )
    .option(
      '--batch-size <n>',
      'windows per optimiser step (as wsn-watch train)',
      positiveInt('batch-size'),
      TRAINING_DEFAULTS.batchSize,
    )
    .option(
      '--patience <n>',
      'epochs without validation improvement before stopping (as wsn-watch train)',
      positiveInt('patience'),
      TRAINING_DEFAULTS.patience,
    )
    .option('--max-minutes <m>', 'wall-clock budget per model', (v) => Number(v))
    .option('--clusters <k>', 'also evaluate one model per k-means cluster (0 = off)', positiveInt('clusters'), 0)
    .option(
      '--cluster-seeds <n>',
      'run the clustered variant on the first n seeds only (default: all)',
      positiveInt('cluster-seeds'),
    )
    .option('--cluster-max-minutes <m>', 'wall-clock budget per cluster model (default: --max-minutes)', (v) =>
      Number(v),
    )
    .option('--no-model', 'baselines only')
    .option(
      '--injection-ranges <kind>',
      "'authors' (the ranges saved with the GLSL code) or 'training' (max − min of the training data)",
      'authors',
    )
    .option(
      '--neighbours <k>',
      'k nearest motes for the graph and the neighbour-median baseline',
      positiveInt('neighbours'),
      4,
    )
    .option(
      '--protocol <name>',
      "'paper' (GLSL: 51 motes, 100 check points) or 'glsl-plus' (the extension: the authors' 16-mote cluster, series halved by PAA, 200 check points, x⁻¹ mirror; fixed epochs)",
      'paper',
    )
    .option('--out <file>', 'write the markdown results there (between the results markers if the file has them)')
    .action((flags: IbrlEvalFlags) => runIbrlEvalCommand(flags));
}
