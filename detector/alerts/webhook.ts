import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Alert } from '../../common/types.ts';
import { DEFAULT_DELIVERY_RETRY, postJson, type DeliveryRetry } from './http-post.ts';
import type { AlertRoute } from './route.ts';

export interface WebhookTarget {
  url: string;
  /** When set, every request is signed: `X-Wsn-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Wsn-Timestamp>.<body>")>`. */
  secret?: string;
}

/** The JSON body a webhook receives. */
export interface WebhookBody {
  source: 'wsn-watch';
  alerts: Alert[];
}

export const SIGNATURE_HEADER = 'X-Wsn-Signature';
/** Unix seconds when the request was signed; part of the signed text, so a captured request cannot be replayed later. */
export const TIMESTAMP_HEADER = 'X-Wsn-Timestamp';
/** How far a receiver should let a signature's timestamp be from its clock, by default (5 min). */
export const DEFAULT_SIGNATURE_TOLERANCE_S = 300;

/** `sha256=<hex>` of `<timestamp>.<body>` with the secret, as the receiver recomputes it. */
export function signBody(body: string, secret: string, timestamp: number): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** The signing headers of one request. */
export function signatureHeaders(body: string, secret: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signBody(body, secret, timestamp) };
}

/**
 * What a receiver does with a request: recompute the signature over the
 * timestamp and the exact body bytes, compare in constant time, and refuse a
 * timestamp further than `toleranceS` from its own clock (a replayed capture).
 */
export function verifySignature(
  request: { body: string; timestamp: string | undefined; signature: string | undefined },
  secret: string,
  options: { toleranceS?: number; nowMs?: number } = {},
): { ok: true } | { ok: false; reason: string } {
  const timestamp = Number(request.timestamp);
  if (!request.timestamp || !Number.isInteger(timestamp))
    return { ok: false, reason: `missing or malformed ${TIMESTAMP_HEADER}` };
  const skew = Math.abs(Math.floor((options.nowMs ?? Date.now()) / 1000) - timestamp);
  const tolerance = options.toleranceS ?? DEFAULT_SIGNATURE_TOLERANCE_S;
  if (skew > tolerance)
    return {
      ok: false,
      reason: `timestamp is ${skew} s away from now (tolerance ${tolerance} s): replayed or wrong clock`,
    };
  const expected = Buffer.from(signBody(request.body, secret, timestamp));
  const given = Buffer.from(request.signature ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'signature does not match' };
  return { ok: true };
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
    private readonly now: () => number = Date.now,
  ) {}

  async deliver(alerts: Alert[]): Promise<void> {
    if (alerts.length === 0 || this.targets.length === 0) return;
    const payload: WebhookBody = { source: 'wsn-watch', alerts };
    const body = JSON.stringify(payload);
    const results = await Promise.allSettled(
      // Signed once per delivery: its retries carry the same timestamp; a later delivery (the outbox after an outage) is signed afresh.
      this.targets.map((target) =>
        postJson(target.url, body, target.secret ? signatureHeaders(body, target.secret, this.now()) : {}, this.retry),
      ),
    );
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
    if (failures.length > 0) throw new AggregateError(failures, failures.map((failure) => failure.message).join('; '));
  }
}
