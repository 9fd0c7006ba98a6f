import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRING_ALERT } from './sample-alert.ts';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  WebhookRoute,
  signBody,
  signatureHeaders,
  verifySignature,
  type WebhookBody,
} from '../../../../detector/alerts/webhook.ts';
import { DeliveryError, type DeliveryRetry } from '../../../../detector/alerts/http-post.ts';

const alert = FIRING_ALERT;

const fastRetry: DeliveryRetry = { retries: 3, minBackoffMs: 5, maxBackoffMs: 20, timeoutMs: 2_000 };

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;

/** A receiver on 127.0.0.1 that answers each request with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)];
      res.end();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('WebhookRoute', () => {
  it('signs the timestamp and the exact body with HMAC-SHA256 of the secret, verifiable by the receiver', async () => {
    const { url, received } = await receiver([200]);
    const now = Date.UTC(2026, 0, 1, 12);
    await new WebhookRoute([{ url, secret: 's3cret' }], fastRetry, () => now).deliver([alert]);
    expect(received).toHaveLength(1);
    const { headers, body } = received[0];
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-wsn-timestamp']).toBe(String(now / 1000));
    const expected = Buffer.from(
      `sha256=${createHmac('sha256', 's3cret')
        .update(`${now / 1000}.${body}`)
        .digest('hex')}`,
    );
    const signature = Buffer.from(String(headers['x-wsn-signature']));
    expect(signature.length).toBe(expected.length);
    expect(timingSafeEqual(signature, expected)).toBe(true);
    const parsed = JSON.parse(body) as WebhookBody;
    expect(parsed).toEqual({ source: 'wsn-watch', alerts: [alert] });
  });

  it('a signature made with another secret or at another time does not match', () => {
    const body = JSON.stringify({ a: 1 });
    expect(signBody(body, 'one', 1)).not.toBe(signBody(body, 'two', 1));
    expect(signBody(body, 'one', 1)).not.toBe(signBody(body, 'one', 2));
    expect(signBody(body, 'one', 1)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('lets a receiver accept a fresh request and reject a tampered, re-dated or replayed one', () => {
    const body = JSON.stringify({ source: 'wsn-watch', alerts: [alert] });
    const sentAt = Date.UTC(2026, 0, 1, 12);
    const headers = signatureHeaders(body, 'k', sentAt);
    const request = { body, timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER] };
    expect(verifySignature(request, 'k', { nowMs: sentAt + 10_000 })).toEqual({ ok: true });
    expect(verifySignature({ ...request, body: body.replace('0.93', '0.10') }, 'k', { nowMs: sentAt })).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect(
      verifySignature({ ...request, timestamp: String(sentAt / 1000 + 3600) }, 'k', { nowMs: sentAt + 3600_000 }),
    ).toEqual({ ok: false, reason: 'signature does not match' });
    expect(verifySignature(request, 'k', { nowMs: sentAt + 3600_000 })).toEqual({
      ok: false,
      reason: 'timestamp is 3600 s away from now (tolerance 300 s): replayed or wrong clock',
    });
    expect(verifySignature({ ...request, timestamp: undefined }, 'k').ok).toBe(false);
  });

  it('sends no signature header without a secret', async () => {
    const { url, received } = await receiver([204]);
    await new WebhookRoute([{ url }], fastRetry).deliver([alert]);
    expect(received[0].headers['x-wsn-signature']).toBeUndefined();
  });

  it('retries 5xx and 429 with backoff until the receiver accepts, sending the same signed body', async () => {
    const { url, received } = await receiver([503, 429, 200]);
    await new WebhookRoute([{ url, secret: 'k' }], fastRetry).deliver([alert]);
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    expect(new Set(received.map((r) => r.headers['x-wsn-signature'])).size).toBe(1);
  });

  it('gives up after the bounded number of retries and says which URL failed', async () => {
    const { url, received } = await receiver([500]);
    const delivery = new WebhookRoute([{ url }], fastRetry).deliver([alert]);
    await expect(delivery).rejects.toThrow(/POST http:\/\/127\.0\.0\.1:\d+\/… failed after 4 attempt\(s\): HTTP 500/);
    expect(received).toHaveLength(1 + fastRetry.retries);
  });

  it('does not retry a 4xx refusal', async () => {
    const { url, received } = await receiver([400]);
    await expect(new WebhookRoute([{ url }], fastRetry).deliver([alert])).rejects.toThrow(/HTTP 400/);
    expect(received).toHaveLength(1);
  });

  it('retries a receiver that is not listening, then fails with the connection error', async () => {
    const { url } = await receiver([200]);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const error = await new WebhookRoute([{ url }], { ...fastRetry, retries: 1 })
      .deliver([alert])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    const [inner] = (error as AggregateError).errors as DeliveryError[];
    expect(inner).toBeInstanceOf(DeliveryError);
    expect(inner.attempts).toBe(2);
    expect(inner.message).toMatch(/ECONNREFUSED/);
  });
});
