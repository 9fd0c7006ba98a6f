import type { Config } from '../common/config.ts';
import type { TopicSpec } from '../common/transport.ts';
import type { Reading } from '../common/types.ts';
import { createTransport } from '../transport/index.ts';
import { publishPaced, type PublishProgress } from './publish.ts';
import { shutdownSignal } from './shutdown-signal.ts';

/** Prints progress of a paced publish to stderr, and how far it got when Ctrl-C/SIGTERM stopped it. */
function progressPrinter(what: string, signal?: AbortSignal): (p: PublishProgress) => void {
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

/** How `replay` and `simulate` send their readings: where, how fast, and what they print. */
export interface ReadingsRun {
  /** The command's name, at the start of its progress lines. */
  command: string;
  topic: TopicSpec;
  /** Event-time speed-up; Infinity = as fast as the broker takes them. */
  speed: number;
  /** Message key of a reading (default: its node). */
  keyOf?: (reading: Reading) => string;
  /** Send each reading at its own event time by the wall clock (a live simulation; speed 1). */
  live?: boolean;
  /** Prints the start line; runs once connected, before anything is sent. */
  announce: () => void;
  /** Added to the final `sent N readings to TOPIC` line; runs after the last reading, so it can report counts made while reading. */
  summary?: () => string;
}

/**
 * The shared frame of `replay` and `simulate`: creates the readings topic if
 * missing, opens a producer, sends the readings paced by event time with
 * progress on stderr, stops early on SIGINT/SIGTERM (through the signal given
 * to `readings`), prints `sent N readings to TOPIC` on stdout, and closes
 * producer and transport however the run ends.
 */
export async function publishReadings(
  config: Pick<Config, 'kafka'>,
  run: ReadingsRun,
  readings: (signal: AbortSignal) => Iterable<Reading> | AsyncIterable<Reading>,
): Promise<void> {
  const transport = createTransport(config);
  await transport.ensureTopics([run.topic]);
  const producer = await transport.producer();
  const { signal } = shutdownSignal();
  run.announce();
  try {
    const result = await publishPaced(readings(signal), {
      producer,
      topic: run.topic.topic,
      speed: run.speed,
      keyOf: run.keyOf,
      ...(run.live ? { origin: { event: 0, wall: 0 } } : {}),
      signal,
      onProgress: progressPrinter(run.command, signal),
    });
    process.stdout.write(`sent ${result.sent} readings to ${run.topic.topic}${run.summary?.() ?? ''}\n`);
  } finally {
    await producer.close();
    await transport.close();
  }
}
