import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_THRESHOLD } from '../../../../common/thresholds.ts';
import { describeThreshold, thresholdInForce } from '../../../../detector/service/threshold.ts';

describe('thresholdInForce', () => {
  it('is the model’s stored threshold when the user sets none, and says so', () => {
    const t = thresholdInForce(undefined, { kind: 'default' }, { threshold: 0.2812, name: 'models/default' });
    expect(t).toEqual({ value: 0.2812, source: 'model', from: 'calibrated and stored with the model models/default' });
    expect(describeThreshold(t)).toBe('alert threshold 0.2812 (calibrated and stored with the model models/default)');
  });

  it('says when the model’s threshold follows its false-alert budget, and not for a user’s', () => {
    const falseAlerts = {
      threshold: 0.6,
      level: 0.2,
      excursions: 100,
      ratePerNodeTick: 0.001,
      scale: 0.45,
      budgetPerNodeTick: 0.05 / 2787,
      perNodeDay: 0.05,
      tickMs: 31_000,
    };
    const model = { threshold: 0.654, name: 'models/ibrl', metadata: { training: { validation: { falseAlerts } } } };
    expect(describeThreshold(thresholdInForce(undefined, { kind: 'default' }, model), model)).toBe(
      "alert threshold 0.654 (calibrated and stored with the model models/ibrl; rises above it while healthy nodes score higher than on the model's validation, to keep 0.05 false alerts per node-day (half-life 12 h))",
    );
    expect(describeThreshold(thresholdInForce(0.7, { kind: 'flag' }, model), model)).toBe(
      'alert threshold 0.7 (--threshold)',
    );
    // A model without the stored calibration: as before.
    expect(describeThreshold(thresholdInForce(undefined, { kind: 'default' }, { threshold: 0.5 }), {})).toBe(
      'alert threshold 0.5 (calibrated and stored with the model)',
    );
  });

  it('is the user’s when set, naming the flag, variable or file it came from', () => {
    expect(thresholdInForce(0.7, { kind: 'flag' }, { threshold: 0.28 })).toMatchObject({
      value: 0.7,
      source: 'user',
      from: '--threshold',
    });
    expect(thresholdInForce(0.7, { kind: 'environment', name: 'WSN_THRESHOLD' }, { threshold: 0.28 }).from).toBe(
      'WSN_THRESHOLD',
    );
    expect(thresholdInForce(0.7, { kind: 'file', file: 'wsn.json' }, { threshold: 0.28 }).from).toBe(
      'detector.threshold in wsn.json',
    );
  });

  it('falls back to the one shared default only for a model without a threshold', () => {
    expect(thresholdInForce(undefined, undefined, {})).toMatchObject({
      value: DEFAULT_ALERT_THRESHOLD,
      source: 'default',
    });
  });
});
