/** The trained model a backtest or live evaluation scores with, and the alert policy around it. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { resolveFromCwdOrRepo } from '../../common/paths.ts';
import { budgetPriorOf } from '../../detector/alerts/false-alert-budget.ts';
import { alertPolicyFromConfig, type AlertPolicy } from '../../detector/alerts/tracker.ts';
import { checkModel } from '../../detector/service/model.ts';
import { ensureBackend, loadDetector, type Detector } from '../../model/index.ts';

export async function openModel(config: Config, note: (text: string) => void): Promise<Detector> {
  const dir = resolveFromCwdOrRepo(config.detector.model);
  if (!existsSync(path.join(dir, 'model.json')))
    throw new UserError(
      'MODEL_MISSING',
      `no model at ${config.detector.model} (model.json not found)`,
      'Pass --model DIR with a folder written by `wsn-watch train`.',
    );
  const backend = await ensureBackend(config.detector.backend);
  const model = await loadDetector(dir);
  checkModel(model, {}, config.detector.model);
  note(
    `model: ${config.detector.model} (modalities ${model.config.modalities.join(', ')}; window ${model.config.window} ticks; stored threshold ${model.threshold.toFixed(3)}; ${backend} backend)`,
  );
  return model;
}

/**
 * The live alert policy with the given threshold. With the model's
 * calibration (the threshold is the model's own) it follows the model's
 * false-alert budget on the stream, as `detect` does; a user's threshold is
 * kept as set.
 */
export function policyWith(
  config: Config,
  threshold: number,
  calibration?: ReturnType<typeof budgetPriorOf>,
): AlertPolicy {
  if (!calibration)
    return alertPolicyFromConfig({ detector: { ...config.detector, threshold }, dashboard: config.dashboard });
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { threshold: userThreshold, ...detector } = config.detector;
  return alertPolicyFromConfig({ detector, dashboard: config.dashboard }, threshold, calibration);
}
