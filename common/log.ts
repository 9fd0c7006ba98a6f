import pino, { type Logger } from 'pino';

/**
 * Structured logs (JSON lines on stderr, so stdout stays free for command
 * output). WSN_LOG_LEVEL sets the level; default `info`, `silent` in tests.
 */
export function createLogger(name: string, level?: string): Logger {
  const resolved = level ?? process.env.WSN_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  return pino({ name, level: resolved }, pino.destination(2));
}

export type { Logger };
