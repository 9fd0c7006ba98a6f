import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured logs (JSON lines on stderr, so stdout stays free for command
 * output). WSN_LOG_LEVEL sets the level; default `info`, `silent` in tests.
 *
 * Secrets never reach a log line. Three layers, because a secret can hide in
 * a field, in a URL or inside an error message written by a library:
 * - pino `redact` blanks fields named like credentials (password, token,
 *   secret, authorization) wherever they are;
 * - every finished line is scrubbed before it is written: userinfo in URLs
 *   (`http://user:pass@host`), credential query parameters (`?p=…`,
 *   `token=…`) and every string registered with `registerSecret` (passwords
 *   and tokens from the configuration, webhook URLs' secret paths);
 * - code that logs a URL logs `redactUrl(url)`, which keeps where a request
 *   went and drops what would let someone else send it.
 */
const REDACTED = '[redacted]';

/** Field paths blanked by pino whatever their value. */
const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

/** Known secret strings, with the spellings they take in a JSON line and in a URL. */
const secrets = new Set<string>();

/**
 * Registers a secret (password, token, webhook path) so that no log line of
 * this process shows it. Short strings (under 4 characters) are not
 * registered: blanking them would mangle ordinary words.
 */
export function registerSecret(secret: string | undefined | null): void {
  if (!secret || secret.length < 4) return;
  for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) secrets.add(form);
}

/** `scheme://user:pass@` (or `scheme://token@`) → `scheme://[redacted]@`. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]+@/gi;
/** Credential-like query parameters: influx's `u`/`p`, tokens, keys, signatures. */
const QUERY_SECRET =
  /([?&](?:p|u|password|passwd|pwd|token|access_token|api_key|apikey|key|secret|sig|signature|auth)=)[^&\s"'#]+/gi;

/** Removes every secret this module knows how to see from a piece of text. */
export function scrubSecrets(text: string): string {
  let out = text.replace(USERINFO, `$1${REDACTED}@`).replace(QUERY_SECRET, `$1${REDACTED}`);
  // Longest first, so a secret that contains another is blanked whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A URL safe to log: without userinfo and query values; with `path: 'hide'`
 * (webhooks, whose path often is the secret, as in Slack's
 * `/services/T…/B…/<token>`) only the origin and `/…` remain.
 */
export function redactUrl(url: string, options: { path?: 'keep' | 'hide' } = {}): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return scrubSecrets(url);
  }
  const hasPath = parsed.pathname !== '/' && parsed.pathname !== '';
  const path = options.path === 'hide' ? (hasPath ? '/…' : '') : parsed.pathname === '/' ? '' : parsed.pathname;
  const query =
    options.path === 'hide' || parsed.search === ''
      ? ''
      : `?${[...parsed.searchParams.keys()].map((k) => `${k}=${REDACTED}`).join('&')}`;
  return `${parsed.protocol}//${parsed.username || parsed.password ? `${REDACTED}@` : ''}${parsed.host}${path}${query}`;
}

/** A destination that scrubs each finished line before writing it. */
function scrubbing(destination: DestinationStream): DestinationStream {
  return { write: (line: string) => destination.write(scrubSecrets(line)) };
}

export function createLogger(name: string, level?: string, destination?: DestinationStream): Logger {
  const resolved = level ?? process.env.WSN_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  return pino(
    { name, level: resolved, redact: { paths: REDACT_PATHS, censor: REDACTED } },
    scrubbing(destination ?? pino.destination(2)),
  );
}

export type { Logger };
