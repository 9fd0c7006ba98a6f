import { createHmac } from 'node:crypto';
import type { Alert } from '../../common/types.ts';
import { DEFAULT_DELIVERY_RETRY, postJson, type DeliveryRetry } from './http-post.ts';
import type { AlertRoute } from './route.ts';

export interface WebhookTarget {
  url: string;
  /** When set, every body is signed: `X-Wsn-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. */
  secret?: string;
}

/** The JSON body a webhook receives. */
export interface WebhookBody {
  source: 'wsn-watch';
  alerts: Alert[];
}

export const SIGNATURE_HEADER = 'X-Wsn-Signature';

/** `sha256=<hex>` of the body with the secret, as the receiver recomputes it. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * Posts alert transitions to every configured webhook (in parallel), signed
 * when a secret is set, retried with bounded exponential backoff. Throws an
 * AggregateError naming the targets that failed for good.
 */
export class WebhookRoute implements AlertRoute {
  readonly name = 'webhooks';
  readonly required = false;

  constructor(
    private readonly targets: WebhookTarget[],
    private readonly retry: DeliveryRetry = DEFAULT_DELIVERY_RETRY,
  ) {}

  async deliver(alerts: Alert[]): Promise<void> {
    if (alerts.length === 0 || this.targets.length === 0) return;
    const payload: WebhookBody = { source: 'wsn-watch', alerts };
    const body = JSON.stringify(payload);
    const results = await Promise.allSettled(
      this.targets.map((target) => postJson(target.url, body, target.secret ? { [SIGNATURE_HEADER]: signBody(body, target.secret) } : {}, this.retry)),
    );
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
    if (failures.length > 0) throw new AggregateError(failures, failures.map((failure) => failure.message).join('; '));
  }
}
