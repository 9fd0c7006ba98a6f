import type { Alert } from '../../../../common/types.ts';
import type { AlertPolicy } from '../../../../detector/alerts/tracker.ts';

/**
 * The alert policy of the detector's unit tests: alert above 0.5 after two
 * ticks, resolve below 0.4 after two; `overrides` change what a test needs.
 */
export function testPolicy(overrides: Partial<AlertPolicy> = {}): AlertPolicy {
  return {
    threshold: 0.5,
    resolveThreshold: 0.4,
    alertAfterTicks: 2,
    resolveAfterTicks: 2,
    dashboardUrl: (network, node) => `http://dash/node/${network}/${node}`,
    ...overrides,
  };
}

/** A firing anomaly alert of node 7's humidity in cluster c1 of network "lab", as the tracker raises it. */
export const FIRING_ALERT: Alert = {
  id: 'lab/c1/7',
  kind: 'anomaly',
  status: 'firing',
  network: 'lab',
  cluster: 'c1',
  node: '7',
  modality: 'humidity',
  probability: 0.93,
  startsAt: Date.UTC(2004, 2, 6, 12),
  dashboardUrl: 'http://127.0.0.1:8080/node/lab/7',
};

/** The nodes whose alerts among `alerts` are firing, sorted. */
export function firingNodes(alerts: readonly Alert[]): string[] {
  return alerts
    .filter((alert) => alert.status === 'firing')
    .map((alert) => alert.node)
    .sort();
}
