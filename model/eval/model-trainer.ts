/**
 * The GNN + GRU model as the evaluation's ModelTrainer. The model module is
 * loaded on demand, so the evaluation (baselines, protocol) works, and is
 * tested, without it.
 */
import { UserError } from '../../common/errors.ts';
import type { Series } from '../../sources/series.ts';
import type { SeriesScorer } from '../scoring.ts';
import type { EvalGraph } from './graph.ts';
import type { ModelTrainer } from './run.ts';
// Types only: the module itself is loaded on demand (loadModelModule).
import type { ProgressListener, TrainOptions } from '../train/train.ts';

export interface ModelTrainSettings {
  epochs: number;
  /** Wall-clock budget per model (minutes). */
  maxMinutes?: number;
  batchSize: number;
  validationFraction: number;
  patience: number;
  onProgress?: (message: string) => void;
}

/** The part of the model module's public surface the evaluation uses. */
interface ModelModule {
  trainDetector(
    series: Series,
    graph: EvalGraph,
    options: Pick<
      TrainOptions,
      'seed' | 'epochs' | 'batchSize' | 'validationFraction' | 'patience' | 'maxMinutes' | 'stats' | 'dataSource'
    >,
    onProgress?: ProgressListener,
  ): Promise<SeriesScorer>;
  ensureBackend(preference?: 'auto'): Promise<string>;
}

const MODEL_ENTRY = '../index.ts';

export async function loadModelModule(): Promise<ModelModule> {
  try {
    return (await import(MODEL_ENTRY)) as ModelModule;
  } catch (error) {
    throw new UserError(
      'MODEL_MISSING',
      `the detector model (model/index.ts) cannot be loaded: ${(error as Error).message}`,
      'Run the evaluation with --no-model to compare the baselines only.',
    );
  }
}

export function modelTrainer(module: ModelModule, settings: ModelTrainSettings, dataSource: string): ModelTrainer {
  return async (train, graph, seed, stats) => {
    const scorer = await module.trainDetector(
      train,
      graph,
      {
        seed,
        epochs: settings.epochs,
        batchSize: settings.batchSize,
        validationFraction: settings.validationFraction,
        patience: settings.patience,
        maxMinutes: settings.maxMinutes,
        stats,
        dataSource,
      },
      (p) => {
        if (p.phase === 'validate' && p.validationLoss !== undefined) {
          settings.onProgress?.(
            `model: epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}${p.validationLoss !== undefined ? ` validation ${p.validationLoss.toFixed(4)}` : ''} (${p.elapsedSeconds.toFixed(0)} s)`,
          );
        }
      },
    );
    const training = (scorer as { metadata?: { training?: TrainingSummary } }).metadata?.training;
    if (training) {
      settings.onProgress?.(
        `model: ${training.epochsRun} epochs (best ${training.bestEpoch}, stopped: ${training.stoppedBecause}), threshold ${scorer.threshold.toFixed(3)} from validation (precision ${training.validation.precision.toFixed(3)} recall ${training.validation.recall.toFixed(3)} F1 ${training.validation.f1.toFixed(3)})`,
      );
    }
    return scorer;
  };
}

/** What the log line after training reads of the model's training metadata. */
interface TrainingSummary {
  epochsRun: number;
  bestEpoch: number;
  stoppedBecause: string;
  validation: { precision: number; recall: number; f1: number };
}
