import type { Alert } from '../../../../common/types.ts';

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
