/**
 * The training flags `wsn-watch train` and `wsn-watch retrain` share: how a
 * model is trained (seed, epochs, batches, window, early stopping, budget).
 */
import type { Command } from 'commander';
import { fractionArg, integerArg, positiveArg } from '../../common/cli-parsers.ts';
import { DEFAULT_MODEL_CONFIG } from '../config.ts';
import { DEFAULT_CONTEXT_CONFIG } from '../context.ts';
import { TRAINING_DEFAULTS } from './defaults.ts';

/** How the model is trained (shared with `wsn-watch retrain`). */
export function addTrainingOptions(command: Command): Command {
  return addModelShapeOptions(command)
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

/** What the trained model is made of (window, slow context path's PAA, attention heads): stored in its config. */
function addModelShapeOptions(command: Command): Command {
  return command
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
      '--attention-heads <n>',
      "heads of the graph attention's first layers (encoder and decoder); the model's cost per call grows with heads × head size; stored with the model",
      integerArg('--attention-heads', 1),
      DEFAULT_MODEL_CONFIG.gatHeads,
    )
    .option(
      '--attention-head-size <n>',
      'features per attention head; stored with the model',
      integerArg('--attention-head-size', 1),
      DEFAULT_MODEL_CONFIG.gatHeadSize,
    );
}
