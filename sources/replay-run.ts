import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../common/config.ts';
import type { TopicSpec } from '../common/transport.ts';
import type { Reading } from '../common/types.ts';
import { ibrlReadingFiles, ibrlToReading, streamIbrl, type IbrlLineIssue } from './ibrl-reader.ts';
import { readHistoryReadings } from './publish.ts';
import { publishReadings, speedText } from './publish-run.ts';
import { StreamInjector, type StreamInjection } from './stream-inject.ts';

/** The shared IBRL data beside the repository. */
export const DEFAULT_IBRL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/data/ibrl');

export interface IbrlReplayOptions {
  /** IBRL folder holding readings/<mote>.txt. */
  data: string;
  /** Event-time speed-up; Infinity = as fast as the broker takes them. */
  speed: number;
  fromEpoch?: number;
  toEpoch?: number;
  injections: StreamInjection[];
  topic: TopicSpec;
  /** Message key of a reading (default: its node; by cluster for several ingest processes). */
  keyOf?: (reading: Reading) => string;
}

/** `wsn-watch replay ibrl`: IBRL readings, with injected anomalies, to the readings topic in event-time order. */
export async function replayIbrl(config: Config, options: IbrlReplayOptions): Promise<void> {
  const injector = new StreamInjector(options.injections);
  const dir = resolve(options.data);
  ibrlReadingFiles(dir); // a missing or empty folder is reported before connecting to Kafka
  let badLines = 0;
  const readings = async function* (): AsyncGenerator<Reading> {
    const onBadLine = (issue: IbrlLineIssue): void => {
      badLines++;
      process.stderr.write(`replay: ${issue.file}:${issue.line}: ${issue.message} (skipped)\n`);
    };
    for await (const raw of streamIbrl(dir, { fromEpoch: options.fromEpoch, toEpoch: options.toEpoch, onBadLine })) {
      yield injector.apply(ibrlToReading(raw, config.network), raw.epoch);
    }
  };
  const topic = options.topic.topic;
  const announce = (): void => {
    const injected = options.injections.length ? `, ${options.injections.length} injection(s)` : '';
    process.stderr.write(
      `replay: ${dir} → ${topic} (network "${config.network}") at ${speedText(options.speed)} speed${injected}\n`,
    );
  };
  await publishReadings(
    config,
    {
      command: 'replay',
      topic: options.topic,
      speed: options.speed,
      keyOf: options.keyOf,
      announce,
      summary: () => `; ${injector.applied.length} value(s) injected; ${badLines} bad line(s) skipped`,
    },
    readings,
  );
}

export interface HistoryReplayOptions {
  /** Default: from the file extension. */
  format?: 'csv' | 'jsonl';
  speed: number;
  topic: TopicSpec;
}

/** `wsn-watch replay csv`: a history file to the readings topic in event-time order. */
export async function replayHistory(config: Config, file: string, options: HistoryReplayOptions): Promise<void> {
  // The whole file is read and checked before connecting: a bad line stops the replay before anything is sent.
  const history = await readHistoryReadings(resolve(file), config.network, options.format);
  const topic = options.topic.topic;
  const announce = (): void => {
    const first = new Date(history.readings[0].ts).toISOString();
    const last = new Date(history.readings[history.readings.length - 1].ts).toISOString();
    process.stderr.write(
      `replay: ${file}: ${history.readings.length} readings of ${history.nodes.length} nodes from ${first} to ${last} → ${topic} (network "${config.network}") at ${speedText(options.speed)} speed\n`,
    );
  };
  const summary = (): string => (history.emptyRows ? `; ${history.emptyRows} row(s) without any value skipped` : '');
  await publishReadings(
    config,
    { command: 'replay', topic: options.topic, speed: options.speed, announce, summary },
    () => history.readings,
  );
}
