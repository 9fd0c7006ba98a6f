import type { IncomingMessage, OutgoingMessage, TransportProducer } from '../common/transport.ts';
import type { Frame } from '../common/types.ts';
import type { Rejection } from './rejection.ts';
import type { IngestTopicNames } from './topics.ts';

/** Header names on DLQ messages. */
export const DLQ_HEADERS = {
  code: 'x-wsn-error-code',
  error: 'x-wsn-error',
  topic: 'x-wsn-source-topic',
  partition: 'x-wsn-source-partition',
  offset: 'x-wsn-source-offset',
  timestamp: 'x-wsn-source-timestamp',
} as const;

/** Header of a frame: wall-clock time (UTC ms) ingest received the first reading of its tick, for the detector's arrival → score latency. */
export const FIRST_ARRIVAL_HEADER = 'x-wsn-first-arrival';

/** Header of a frame: its tick (UTC ms), so a consumer can tell which tick a frame is of without decoding it. */
export const TICK_HEADER = 'x-wsn-tick';

/**
 * A frame as a message on `wsn.frames`: keyed by cluster, its tick in the
 * value and the `x-wsn-tick` header; with `firstArrival`, when the first
 * reading of the tick arrived (unknown for ticks restored from a checkpoint).
 */
export function frameMessage(frame: Frame, firstArrival?: number): OutgoingMessage {
  const headers: Record<string, string> = {
    'x-wsn-network': frame.network,
    [TICK_HEADER]: String(frame.tick),
    'x-wsn-topology-version': frame.topologyVersion,
  };
  if (firstArrival !== undefined) headers[FIRST_ARRIVAL_HEADER] = String(firstArrival);
  return {
    key: frame.cluster,
    value: JSON.stringify(frame),
    // No Kafka timestamp from event time: time-based retention would delete
    // frames of old (replayed) data at once. The tick is in the value and a header.
    headers,
  };
}

/** A rejected message as a DLQ message: the original key and bytes, plus headers saying why and where from. */
export function dlqMessage(message: IncomingMessage, rejection: Rejection): OutgoingMessage {
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      [DLQ_HEADERS.code]: rejection.code,
      [DLQ_HEADERS.error]: rejection.message,
      [DLQ_HEADERS.topic]: message.topic,
      [DLQ_HEADERS.partition]: String(message.partition),
      [DLQ_HEADERS.offset]: message.offset,
      [DLQ_HEADERS.timestamp]: String(message.timestamp),
    },
  };
}

/**
 * Sends one step's DLQ messages and frames, together (the two sends do not
 * depend on each other); each frame with the arrival time of its tick's first
 * reading when known.
 */
export async function sendStep(
  producer: TransportProducer,
  topics: IngestTopicNames,
  dlq: OutgoingMessage[],
  frames: Frame[],
  firstArrivals: ReadonlyMap<number, number>,
): Promise<void> {
  await Promise.all([
    dlq.length > 0 ? producer.send(topics.readingsDlq, dlq) : undefined,
    frames.length > 0
      ? producer.send(
          topics.frames,
          frames.map((frame) => frameMessage(frame, firstArrivals.get(frame.tick))),
        )
      : undefined,
  ]);
}

/** Drops the first-arrival times of ticks up to the newest of `frames` (published: no longer open). */
export function forgetArrivals(firstArrivals: Map<number, number>, frames: Frame[]): void {
  if (frames.length === 0) return;
  const newest = frames[frames.length - 1].tick;
  for (const tick of firstArrivals.keys()) if (tick <= newest) firstArrivals.delete(tick);
}
