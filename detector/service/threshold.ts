import type { ConfigOrigin } from '../../common/config.ts';
import { DEFAULT_ALERT_THRESHOLD } from '../../common/thresholds.ts';
import { budgetPriorOf } from '../alerts/false-alert-budget.ts';
import { alertPolicyFromConfig, describeBudget } from '../alerts/tracker.ts';

/** The alert threshold a detector runs with, and where it came from (for its start-up line). */
export interface ThresholdInForce {
  value: number;
  source: 'user' | 'model' | 'default';
  /** Human words for the source, e.g. "--threshold", "WSN_THRESHOLD", "calibrated and stored with the model models/default". */
  from: string;
}

/**
 * One rule for every command: the user's threshold (flag, environment or
 * config file) when set, else the one calibrated and stored with the model,
 * else DEFAULT_ALERT_THRESHOLD (a model that stores none).
 */
export function thresholdInForce(
  configured: number | undefined,
  origin: ConfigOrigin | undefined,
  model: { threshold?: number; name?: string },
): ThresholdInForce {
  if (configured !== undefined) {
    const from =
      origin?.kind === 'flag'
        ? '--threshold'
        : origin?.kind === 'environment'
          ? origin.name
          : origin?.kind === 'file'
            ? `detector.threshold in ${origin.file}`
            : 'detector.threshold';
    return { value: configured, source: 'user', from };
  }
  if (model.threshold !== undefined && Number.isFinite(model.threshold)) {
    return {
      value: model.threshold,
      source: 'model',
      from: `calibrated and stored with the model${model.name ? ` ${model.name}` : ''}`,
    };
  }
  return {
    value: DEFAULT_ALERT_THRESHOLD,
    source: 'default',
    from: 'built-in default (the model stores no threshold)',
  };
}

/**
 * "alert threshold 0.281 (calibrated and stored with the model models/default)";
 * given the model, a model threshold that follows the model's false-alert
 * budget on the stream says so.
 */
export function describeThreshold(threshold: ThresholdInForce, model?: Parameters<typeof budgetPriorOf>[0]): string {
  const calibration = threshold.source === 'model' && model ? budgetPriorOf(model) : undefined;
  const budget = calibration
    ? describeBudget(alertPolicyFromConfig(NO_USER_THRESHOLD, threshold.value, calibration))
    : '';
  return `alert threshold ${Number(threshold.value.toFixed(4))} (${threshold.from}${budget})`;
}

/** Just enough configuration to build a policy around the model's threshold. */
const NO_USER_THRESHOLD = {
  detector: { alertAfterTicks: 1, resolveAfterTicks: 1 },
  dashboard: { publicUrl: '' },
};
