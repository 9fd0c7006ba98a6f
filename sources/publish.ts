import path from 'node:path';
import { UserError } from '../common/errors.ts';
import type { OutgoingMessage, TransportProducer } from '../common/transport.ts';
import type { Reading } from '../common/types.ts';
import { readCsvHistory, readJsonlHistory, type HistoryReading } from './history.ts';

/**
 * Sends readings to `wsn.readings` paced by their event time: at `speed`×
 * real time (event time t is sent at start + (t − t0) / speed of wall time),
 * or as fast as the broker takes them with speed = Infinity. Readings must
 * come in event-time order. Sends in batches; reports progress.
 */
export interface PacedPublishOptions {
  producer: TransportProducer;
  topic: string;
  /** Event-time speed-up; Infinity = no pacing. */
  speed: number;
  /** Most readings per send (default 500). */
  batchSize?: number;
  /**
   * Readings due within this many ms of now go out at once, up to that early (default 50). Paced per reading, a live
   * network of thousands of nodes (a reading every fraction of a millisecond) paid a send and a timer per reading:
   * twice the CPU at 100,000 nodes.
   */
  burstMs?: number;
  /** Called about every `progressEvery` readings (default 10 000) and at the end. */
  onProgress?: (progress: PublishProgress) => void;
  progressEvery?: number;
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /**
   * Which wall time event time `event` is sent at (default: the first reading is sent at once). A live simulation
   * passes `{ event: 0, wall: 0 }`, so each reading goes out at its own event time: from the first reading's, its
   * stream lagged the clock by up to a tick (it starts at the current tick's start), and every latency measured
   * from the end of a tick by the wall clock with it.
   */
  origin?: { event: number; wall: number };
  /**
   * The message key of a reading (default: its node). Several ingest
   * processes in one group need readings keyed by cluster, so that each
   * cluster's readings are on one partition.
   */
  keyOf?: (reading: Reading) => string;
}

export interface PublishProgress {
  sent: number;
  /** Event time of the last reading sent, UTC ms. */
  eventTs: number | null;
  /** False while running, and at the end when the signal stopped the run early. */
  done: boolean;
}

/**
 * A reading as the JSON message gateways send: key = node id. The Kafka
 * timestamp stays the send time: event time is in the value, and a replay of
 * 2004 data stamped with 2004 would fall to time-based retention at once.
 */
export function readingMessage(reading: Reading, key: string = reading.node): OutgoingMessage {
  return { key, value: JSON.stringify(reading) };
}

/** How early a paced reading may be sent, so that readings go out in bursts rather than one by one. */
export const DEFAULT_BURST_MS = 50;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function publishPaced(
  readings: AsyncIterable<Reading> | Iterable<Reading>,
  options: PacedPublishOptions,
): Promise<PublishProgress> {
  const batchSize = options.batchSize ?? 500;
  const burstMs = options.burstMs ?? DEFAULT_BURST_MS;
  const progressEvery = options.progressEvery ?? 10_000;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  let pending: OutgoingMessage[] = [];
  let sent = 0;
  let lastReport = 0;
  let eventTs: number | null = null;
  let origin: { event: number; wall: number } | null = options.origin ?? null;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    await options.producer.send(options.topic, pending);
    sent += pending.length;
    pending = [];
    if (sent - lastReport >= progressEvery) {
      lastReport = sent;
      options.onProgress?.({ sent, eventTs, done: false });
    }
  };
  for await (const reading of readings) {
    if (options.signal?.aborted) break;
    if (Number.isFinite(options.speed)) {
      origin ??= { event: reading.ts, wall: now() };
      const due = origin.wall + (reading.ts - origin.event) / options.speed;
      const wait = due - now();
      if (wait > burstMs) {
        // Send what is due before sleeping, so pacing never holds back earlier readings.
        await flush();
        await sleep(wait);
      }
    }
    pending.push(readingMessage(reading, options.keyOf?.(reading)));
    eventTs = reading.ts;
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  const final = { sent, eventTs, done: !options.signal?.aborted };
  options.onProgress?.(final);
  return final;
}

/**
 * A history file (the CSV / JSON lines `wsn-watch train --history` takes) as
 * readings in event-time order, for `replay csv` and `backtest`. Empty fields
 * are left out of a reading (ingest carries the last value forward); a row
 * with no value at all is counted and skipped; a malformed line stops with
 * its line number (the loaders' UserError).
 */
export interface HistoryReadings {
  readings: Reading[];
  /** Rows without any value (every modality field empty). */
  emptyRows: number;
  nodes: string[];
  modalities: string[];
}

export async function readHistoryReadings(
  file: string,
  network: string,
  format?: 'csv' | 'jsonl',
): Promise<HistoryReadings> {
  const kind = format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  let rows: HistoryReading[];
  try {
    rows = kind === 'csv' ? await readCsvHistory(file) : await readJsonlHistory(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new UserError(
        'HISTORY_MISSING',
        `cannot read ${file}: ${(error as Error).message}`,
        'Check the path of the history file.',
      );
    }
    throw error;
  }
  let emptyRows = 0;
  const readings: Reading[] = [];
  for (const row of rows) {
    if (Object.keys(row.values).length === 0) {
      emptyRows++;
      continue;
    }
    readings.push({ network, node: row.node, ts: Math.round(row.ts), values: row.values });
  }
  if (readings.length === 0)
    throw new UserError(
      'HISTORY_EMPTY',
      `${path.basename(file)} holds no reading with a value`,
      'Pass a file with a header (node, ts, one column per modality) and at least a few readings.',
    );
  // Stable: readings of the same instant keep the file's order.
  readings.sort((a, b) => a.ts - b.ts);
  const nodes = [...new Set(readings.map((r) => r.node))];
  const modalities = [...new Set(readings.flatMap((r) => Object.keys(r.values)))];
  return { readings, emptyRows, nodes, modalities };
}
