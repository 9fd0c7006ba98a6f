import pRetry, { AbortError } from 'p-retry';
import { redactUrl } from '../../common/log.ts';

/** How hard to try one HTTP delivery: exponential backoff, bounded in attempts and per-request time. */
export interface DeliveryRetry {
  /** Retries after the first attempt. */
  retries: number;
  /** Wait before the first retry, ms; doubles per retry. */
  minBackoffMs: number;
  /** Longest wait between retries, ms. */
  maxBackoffMs: number;
  /** Per-attempt timeout, ms. */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY_RETRY: DeliveryRetry = {
  retries: 4,
  minBackoffMs: 250,
  maxBackoffMs: 4_000,
  timeoutMs: 5_000,
};

/**
 * A delivery that failed for good: the last status or network error says why.
 * `url` is the redacted address (see postJson's `logUrl`): errors get logged.
 */
export class DeliveryError extends Error {
  constructor(
    readonly url: string,
    readonly attempts: number,
    message: string,
    /** The receiver answered 4xx (not 429): the same body would be refused again. */
    readonly refused = false,
  ) {
    super(`POST ${url} failed after ${attempts} attempt(s): ${message}`);
    this.name = 'DeliveryError';
  }
}

/**
 * POSTs a JSON body, retrying network errors, timeouts, 429 and 5xx with
 * exponential backoff. Other 4xx answers are not retried: sending the same
 * body again would be refused again. Errors name the URL as `logUrl`
 * (default: origin only, since a webhook's path and query can be its secret).
 */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  retry: DeliveryRetry = DEFAULT_DELIVERY_RETRY,
  logUrl: string = redactUrl(url, { path: 'hide' }),
): Promise<void> {
  let attempts = 0;
  let refused = false;
  try {
    await pRetry(
      async () => {
        attempts += 1;
        let response: Response;
        try {
          response = await fetch(url, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json', ...headers },
            signal: AbortSignal.timeout(retry.timeoutMs),
          });
        } catch (error) {
          throw new Error(describeFetchError(error), { cause: error });
        }
        // Drain the body so the connection can be reused.
        const text = await response.text().catch(() => '');
        if (response.ok) return;
        const problem = `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
        if (response.status === 429 || response.status >= 500) throw new Error(problem);
        refused = true;
        throw new AbortError(problem);
      },
      {
        retries: retry.retries,
        minTimeout: retry.minBackoffMs,
        maxTimeout: retry.maxBackoffMs,
        factor: 2,
        randomize: false,
      },
    );
  } catch (error) {
    throw new DeliveryError(logUrl, attempts, (error as Error).message, refused);
  }
}

function describeFetchError(error: unknown): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'timed out';
  return err.cause?.code ?? err.cause?.message ?? err.message;
}
