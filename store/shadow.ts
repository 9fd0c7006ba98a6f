/**
 * The `shadow` measurement: while a candidate model version is shadow-scored
 * beside the live one (`wsn-watch model shadow VERSION`), one small point per
 * node-tick it judged (tags network, node, model; fields probability,
 * is_anomaly, alert_started). It doubles the points of a network only while a
 * shadow runs; the `anomaly` points of the live model are unchanged by it.
 */
import type { IPoint } from 'influx';

export const SHADOW_MEASUREMENT = 'shadow';

/** One node-tick as the shadowing version scored it. */
export interface ShadowScore {
  network: string;
  cluster: string;
  node: string;
  tick: number;
  /** The shadowing version (`v4`). */
  model: string;
  probability: number;
  /** Above the version's own threshold and not explained by a stronger neighbour (as `anomaly.is_anomaly`). */
  isAnomaly: boolean;
  /** True on the tick the version's own alert tracker opened an anomaly episode on this node. */
  alertStarted: boolean;
}

export function shadowPoints(scores: readonly ShadowScore[]): IPoint[] {
  return scores.map((score) => ({
    measurement: SHADOW_MEASUREMENT,
    tags: { network: score.network, node: score.node, model: score.model },
    fields: { probability: score.probability, is_anomaly: score.isAnomaly, alert_started: score.alertStarted },
    timestamp: score.tick,
  }));
}
