import type { ConfigOrigin } from '../../common/config.ts';
import { DEFAULT_ALERT_THRESHOLD } from '../../common/thresholds.ts';

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

/** "alert threshold 0.281 (calibrated and stored with the model models/default)". */
export function describeThreshold(threshold: ThresholdInForce): string {
  return `alert threshold ${Number(threshold.value.toFixed(4))} (${threshold.from})`;
}
