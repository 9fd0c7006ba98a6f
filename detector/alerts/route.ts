import type { Alert } from '../../common/types.ts';

/** One place alerts go: Alertmanager, webhooks, the `wsn.alerts` topic. */
export interface AlertRoute {
  readonly name: string;
  /**
   * When true a failed delivery fails the detector's batch (it is retried with
   * the frames); otherwise failures are logged and counted after the route's
   * own bounded retries, so a dead receiver cannot stall detection.
   */
  readonly required: boolean;
  /** Delivered by the alert outbox (outbox.ts), not by the router: the router only re-sends through it. */
  readonly viaOutbox?: boolean;
  /** Delivers alert transitions (fired, resolved). */
  deliver(alerts: Alert[]): Promise<void>;
  /** Re-delivers the alerts still firing, for receivers that expire them (Alertmanager). */
  resend?(firing: Alert[]): Promise<void>;
}

/** A one-line human summary of an alert. */
export function summarize(alert: Alert): string {
  const where = `node ${alert.node} (cluster ${alert.cluster}, network ${alert.network})`;
  if (alert.kind === 'silent') return `${where} stopped reporting`;
  if (alert.kind === 'topology')
    return `${where} ${alert.change ?? 'changed'} in topology ${alert.topologyVersion?.slice(0, 12) ?? '?'} (informational)`;
  return `${where}: anomalous ${alert.modality}, probability ${alert.probability.toFixed(2)}`;
}
