/**
 * Training settings shared by `wsn-watch train` and the models that
 * `wsn-watch eval` trains, so an evaluation measures the model a user gets.
 */
export const TRAINING_DEFAULTS = {
  /** Upper bound on passes over the training windows. */
  epochs: 30,
  /** Windows per optimiser step: 4 sequences of 8 consecutive windows. */
  batchSize: 32,
  /** Tail of the training data held out for early stopping and threshold calibration. */
  validationFraction: 0.2,
  /** Epochs without validation improvement before stopping. */
  patience: 6,
} as const;
