/**
 * Baseline thresholds from TRAINING data only: the same protocol (check
 * points, paper injections) run inside the training range, and the raw score
 * threshold that maximizes F1 there. The test range is never looked at.
 */
import { createRng } from '../../common/random.ts';
import type { CalibratedBaseline } from '../baselines/node-scores.ts';
import type { ModalityStats } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';
import type { SeriesScorer } from '../scoring.ts';
import { type InjectionStyle, injectedCases, planPaperInjections } from './paper-injections.ts';
import { type Counts, type ProtocolOptions, bestF1Threshold, checkPointsIn, runProtocol } from './protocol.ts';

export interface CalibrationInput {
  raw: Series;
  normalized: Series;
  trainEnd: number;
  protocol: ProtocolOptions;
  nearest: readonly number[];
  injectionStats: ModalityStats;
  normalization: ModalityStats;
  seed: number;
  /** The protocol variant's injection style (default: the GLSL paper's). */
  style?: InjectionStyle;
}

/**
 * The best-F1 probability threshold of any scorer on injected training data:
 * the paper protocol run inside the training range, with its own check points
 * and injections. The scorer's own `threshold` is not used.
 */
export async function thresholdOnTraining(
  scorer: SeriesScorer,
  input: CalibrationInput,
): Promise<{ threshold: number; counts: Counts }> {
  const { protocol } = input;
  // The training range as a stand-in test range: its own check points, its own injections.
  const checkPoints = checkPointsIn(0, input.trainEnd, protocol);
  const rng = createRng(input.seed ^ 0x5eed);
  const plan = planPaperInjections(input.raw, checkPoints, rng, {
    ...input.style,
    injectionLength: protocol.injectionLength,
    window: protocol.window,
    nearest: input.nearest,
  });
  const trainOnly: Series = { ...input.normalized, steps: input.trainEnd };
  const { outcomes } = await runProtocol(
    scorer,
    trainOnly,
    protocol.window - 1,
    checkPoints,
    injectedCases(input.raw, plan, input.injectionStats, input.normalization),
    protocol.window,
  );
  return bestF1Threshold(outcomes);
}

/** Sets `scorer.rawThreshold` to the best-F1 raw threshold on injected training data; returns the training counts. */
export async function calibrateOnTraining(
  scorer: SeriesScorer & CalibratedBaseline,
  input: CalibrationInput,
): Promise<{ rawThreshold: number; counts: Counts }> {
  // Unit raw threshold: p = s / (s + 1), so a probability maps back to s = p / (1 − p).
  scorer.rawThreshold = 1;
  const best = await thresholdOnTraining(scorer, input);
  const p = Math.min(best.threshold, 1 - 1e-9);
  scorer.rawThreshold = p / (1 - p);
  return { rawThreshold: scorer.rawThreshold, counts: best.counts };
}

/** The same scores under another threshold. */
export function withThreshold(scorer: SeriesScorer, threshold: number): SeriesScorer {
  return { name: scorer.name, threshold, scoreSeries: (series, from, to) => scorer.scoreSeries(series, from, to) };
}
