/**
 * `wsn-watch train`: trains the GNN + GRU detector on IBRL data, a history
 * file or a generated network, and saves model + metadata to --out. This
 * file only declares and parses the flags; run.ts does the work.
 */
import { Option, type Command } from 'commander';
import { fractionArg, integerArg } from '../../common/cli-parsers.ts';
import { addTrainingOptions } from './cli-options.ts';
import { runTrain, type TrainCliOptions } from './run.ts';

export function registerTrainCommand(program: Command): void {
  const command = program
    .command('train')
    .description(
      'Train the GNN + GRU anomaly detector (self-supervised: synthetic anomalies are the positives) and save it',
    );
  addGraphAndBackendOptions(addTrainingOptions(addOutputOptions(addDataSourceOptions(command))))
    .addHelpText(
      'after',
      `
Exactly one of --data, --history or --synthetic. The series is z-normalized with
the statistics of its training part, which are saved with the model.

Examples:
  wsn-watch train --data ../shared/data/ibrl --format ibrl --out models/ibrl --max-minutes 25
  wsn-watch train --synthetic --nodes 12 --steps 2000 --epochs 8 --seed 1 --out models/default`,
    )
    .action(async (options: TrainCliOptions) => {
      await runTrain(options);
    });
}

/** Where the training data comes from: IBRL, a history file or a generated network. */
function addDataSourceOptions(command: Command): Command {
  return command
    .option(
      '--data <dir>',
      'data folder to train on (with --format ibrl: readings/<id>.txt and node.txt, e.g. ../shared/data/ibrl)',
    )
    .addOption(new Option('--format <format>', 'format of --data').choices(['ibrl']).default('ibrl'))
    .option(
      '--history <file>',
      'history file to train on: CSV with a header (node,ts,<modality>…) or JSON lines, aligned on a tick',
    )
    .option(
      '--tick-ms <ms>',
      "with --history: tick of the UTC-aligned grid, the same as the ingest's (default: config ingest.tickMs, 31 s)",
      integerArg('--tick-ms', 1),
    )
    .option(
      '--max-gap-ticks <n>',
      'with --history: gaps of up to n ticks hold the last value (as live); longer gaps, late starts and early ends are rebuilt from the other nodes',
      integerArg('--max-gap-ticks', 0),
      10,
    )
    .option(
      '--topology <file>',
      'with --history: node positions (IBRL node.txt, .json or .csv) for the k-nearest graph; default: a complete graph',
    )
    .option('--synthetic', 'train on a generated correlated sensor network (daily cycles, 3 modalities)')
    .option('--nodes <n>', 'with --synthetic: number of nodes', integerArg('--nodes', 2), 12)
    .option('--steps <n>', 'with --synthetic: number of samples', integerArg('--steps', 100), 2000)
    .option(
      '--loss <rate>',
      "with --synthetic: share of readings lost in the radio, held as ingest holds them (the simulator's and the demo's is 0.03)",
      fractionArg('--loss'),
    );
}

/** Where the model goes. */
function addOutputOptions(command: Command): Command {
  return command
    .option('--out <dir>', 'directory to write model.json, weights.bin (and nothing else) to')
    .option(
      '--register',
      'also register the model as a new version in the model registry (config registry.dir); without --out it is only registered',
    )
    .option('--parent <version>', 'with --register: the version it follows (default: the newest of the network)');
}

/** IBRL alignment, the graph and the TensorFlow.js backend. */
function addGraphAndBackendOptions(command: Command): Command {
  return command
    .option(
      '--samples <n>',
      "with --data (IBRL): sample epochs aligned from the first epoch of the paper's range to --last-epoch (default 5000, the paper's)",
      integerArg('--samples', 100),
    )
    .option(
      '--last-epoch <n>',
      "with --data (IBRL): last epoch of the alignment (default 28675, the paper's); --samples equal to the epoch count gives the network's own 31 s rounds",
      integerArg('--last-epoch', 1),
    )
    .option('--knn <k>', 'graph: edges from each node to its k nearest nodes', integerArg('--knn', 1), 4)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    );
}
