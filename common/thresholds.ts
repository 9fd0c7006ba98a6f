/**
 * The alert threshold used when neither the user nor the model gives one.
 * Normally the threshold in force is the one calibrated and stored with the
 * model (`metadata.threshold`); this constant is only the last resort, and the
 * starting value of display-only thresholds (Grafana's threshold line).
 * Every place that needs a default threshold imports it from here.
 */
export const DEFAULT_ALERT_THRESHOLD = 0.5;
