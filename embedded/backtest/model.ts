/** The trained model a backtest or live evaluation scores with, and the alert policy around it. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { alertPolicyFromConfig, type AlertPolicy } from '../../detector/alerts/tracker.ts';
import { checkModel } from '../../detector/service/model.ts';
import { ensureBackend, loadDetector, type Detector } from '../../model/index.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A model directory as given (relative to the working directory), else relative to the repository. */
export function resolveModelDir(dir: string): string {
  const fromCwd = path.resolve(dir);
  if (existsSync(fromCwd) || path.isAbsolute(dir)) return fromCwd;
  return path.resolve(REPO_ROOT, dir);
}

export async function openModel(config: Config, note: (text: string) => void): Promise<Detector> {
  const dir = resolveModelDir(config.detector.model);
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

/** The live alert policy with the given threshold (the model's stored one unless the user set one). */
export function policyWith(config: Config, threshold: number): AlertPolicy {
  return alertPolicyFromConfig({ detector: { ...config.detector, threshold }, dashboard: config.dashboard });
}
