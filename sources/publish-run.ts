import type { Config } from '../common/config.ts';
import type { TopicSpec, TransportProducer } from '../common/transport.ts';
import { createTransport } from '../transport/index.ts';
import type { PublishProgress } from './publish.ts';
import { shutdownSignal } from './shutdown-signal.ts';

/** Prints progress of a paced publish to stderr, and how far it got when Ctrl-C/SIGTERM stopped it. */
export function progressPrinter(what: string, signal?: AbortSignal): (p: PublishProgress) => void {
  const started = Date.now();
  return (p) => {
    if (!p.done && signal?.aborted) {
      process.stderr.write(
        `${what}: stopped, ${p.sent} readings sent${p.eventTs === null ? '' : `, up to event time ${new Date(p.eventTs).toISOString()}`}\n`,
      );
      return;
    }
    const seconds = (Date.now() - started) / 1000;
    const at = p.eventTs === null ? '' : `, event time ${new Date(p.eventTs).toISOString()}`;
    process.stderr.write(`${what}: ${p.done ? 'done, ' : ''}${p.sent} readings sent in ${seconds.toFixed(1)} s${at}\n`);
  };
}

/** "600×" or "max", as the start lines of replay and simulate say it. */
export function speedText(speed: number): string {
  return Number.isFinite(speed) ? `${speed}×` : 'max';
}

/**
 * The shared frame of `replay` and `simulate`: creates the readings topic if
 * missing, opens a producer, stops early on SIGINT/SIGTERM (through the
 * signal given to `send`), and closes producer and transport however `send` ends.
 * `announce` runs once connected, before anything is sent.
 */
export async function publishToTopic<T>(
  config: Pick<Config, 'kafka'>,
  topic: TopicSpec,
  announce: () => void,
  send: (producer: TransportProducer, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const transport = createTransport(config);
  await transport.ensureTopics([topic]);
  const producer = await transport.producer();
  const { signal } = shutdownSignal();
  announce();
  try {
    return await send(producer, signal);
  } finally {
    await producer.close();
    await transport.close();
  }
}
