/**
 * `wsn-watch train`: trains the GNN + GRU detector on IBRL data, a history
 * file or a generated network, and saves model + metadata to --out. This
 * file only declares and parses the flags; run.ts does the work.
 */
import { Option, type Command } from 'commander';
import { fractionArg, integerArg, positiveArg } from '../../common/cli-parsers.ts';
import { DEFAULT_CONTEXT_CONFIG } from '../context.ts';
import { TRAINING_DEFAULTS } from './defaults.ts';
import { runTrain, type TrainCliOptions } from './run.ts';

export { runTrain, type TrainCliOptions };

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

/** How the model is trained (shared with `wsn-watch retrain`). */
export function addTrainingOptions(command: Command): Command {
  return command
    .option(
      '--seed <n>',
      'seed of weights, shuffling and injections (same seed and backend = same model)',
      integerArg('--seed', 0),
      1,
    )
    .option(
      '--epochs <n>',
      'maximum passes over the training windows',
      integerArg('--epochs', 1),
      TRAINING_DEFAULTS.epochs,
    )
    .option(
      '--batch-size <n>',
      'windows per optimiser step (rounded to whole sequences of --sequence-length)',
      integerArg('--batch-size', 1),
      TRAINING_DEFAULTS.batchSize,
    )
    .option('--window <n>', 'window length in samples', integerArg('--window', 2), 20)
    .option(
      '--paa-segments <n>',
      'PAA segments of the slow context path (the level residual over the last n × --paa-segment-ticks ticks; 0 = no PAA); stored with the model',
      integerArg('--paa-segments', 0),
      DEFAULT_CONTEXT_CONFIG.segments,
    )
    .option(
      '--paa-segment-ticks <n>',
      'ticks averaged into one PAA segment; stored with the model',
      integerArg('--paa-segment-ticks', 1),
      DEFAULT_CONTEXT_CONFIG.segmentTicks,
    )
    .option(
      '--sequence-length <n>',
      'consecutive windows the GRU is unrolled over (truncated back-propagation)',
      integerArg('--sequence-length', 1),
      8,
    )
    .option('--learning-rate <x>', 'Adam learning rate', positiveArg('--learning-rate'), 1e-3)
    .option(
      '--validation-fraction <x>',
      'tail of the training data held out for early stopping and threshold calibration',
      fractionArg('--validation-fraction'),
      TRAINING_DEFAULTS.validationFraction,
    )
    .option(
      '--patience <n>',
      'epochs without validation improvement before stopping',
      integerArg('--patience', 1),
      TRAINING_DEFAULTS.patience,
    )
    .option(
      '--train-fraction <x>',
      "leading fraction of the data used at all (the rest is left for evaluation); default 0.6 for IBRL (the paper's split), 1 otherwise",
      fractionArg('--train-fraction'),
    )
    .option(
      '--windows-per-epoch <n>',
      'cap on training windows per epoch (default: all)',
      integerArg('--windows-per-epoch', 1),
    )
    .option(
      '--max-minutes <x>',
      'wall-clock budget; stops early keeping the best weights',
      positiveArg('--max-minutes'),
    )
    .option(
      '--false-alerts <n>',
      'false alerts a healthy node may raise per day at the live tick: the stored threshold is at least the one the clean validation gives for it',
      positiveArg('--false-alerts'),
      0.05,
    );
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
