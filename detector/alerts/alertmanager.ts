import type { Alert } from '../../common/types.ts';
import { redactUrl } from '../../common/log.ts';
import { DEFAULT_DELIVERY_RETRY, postJson, type DeliveryRetry } from './http-post.ts';
import { summarize, type AlertRoute } from './route.ts';

/** An alert in the shape of Alertmanager's API v2 `POST /api/v2/alerts`. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

export interface AlertmanagerOptions {
  /** Base URL, e.g. http://127.0.0.1:9093. */
  url: string;
  /**
   * How long a firing alert stays valid without a re-send, ms. The router
   * re-sends well within it; if the detector dies, Alertmanager resolves the
   * alert by itself once it lapses.
   */
  firingTtlMs?: number;
  retry?: DeliveryRetry;
  /** Wall clock, injectable for tests. */
  now?: () => number;
}

export const ALERT_NAMES = {
  anomaly: 'WsnNodeAnomaly',
  silent: 'WsnNodeSilent',
  topology: 'WsnTopologyChange',
} as const;

const SEVERITIES = { anomaly: 'critical', silent: 'warning', topology: 'info' } as const;

/**
 * The Alertmanager form of an alert. Labels identify it (Alertmanager
 * deduplicates on them), so they hold only what stays fixed while it fires.
 * startsAt is the event time the anomaly began; a firing alert's endsAt is
 * now + TTL, a resolved one's is when it resolved (never in the future, or
 * Alertmanager would keep it firing until then).
 */
export function toPostableAlert(alert: Alert, nowMs: number, firingTtlMs: number): PostableAlert {
  const endsAt =
    alert.status === 'resolved'
      ? Math.max(alert.startsAt, Math.min(alert.endsAt ?? nowMs, nowMs))
      : nowMs + firingTtlMs;
  return {
    labels: {
      alertname: ALERT_NAMES[alert.kind],
      network: alert.network,
      cluster: alert.cluster,
      node: alert.node,
      modality: alert.modality,
      severity: SEVERITIES[alert.kind],
      // A topology alert names its change; a later change of the node is another alert.
      ...(alert.change ? { change: alert.change } : {}),
    },
    annotations: {
      summary: summarize(alert),
      probability: alert.probability.toFixed(4),
      dashboard: alert.dashboardUrl,
      // Resolved because a maintenance silence began, not because the data cleared.
      ...(alert.reason ? { resolved_by: alert.reason } : {}),
      ...(alert.topologyVersion ? { topology_version: alert.topologyVersion } : {}),
    },
    startsAt: new Date(alert.startsAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    generatorURL: alert.dashboardUrl,
  };
}

/** Routes alerts to Prometheus Alertmanager (API v2); re-sends keep firing ones alive. */
export class AlertmanagerRoute implements AlertRoute {
  readonly name = 'alertmanager';
  readonly required = false;
  private readonly endpoint: string;
  private readonly firingTtlMs: number;
  private readonly retry: DeliveryRetry;
  private readonly now: () => number;

  constructor(options: AlertmanagerOptions) {
    this.endpoint = `${options.url.replace(/\/+$/, '')}/api/v2/alerts`;
    this.firingTtlMs = options.firingTtlMs ?? 5 * 60_000;
    this.retry = options.retry ?? DEFAULT_DELIVERY_RETRY;
    this.now = options.now ?? Date.now;
  }

  async deliver(alerts: Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const now = this.now();
    await postJson(
      this.endpoint,
      JSON.stringify(alerts.map((alert) => toPostableAlert(alert, now, this.firingTtlMs))),
      {},
      this.retry,
      redactUrl(this.endpoint),
    );
  }

  async resend(firing: Alert[]): Promise<void> {
    await this.deliver(firing);
  }
}
