import { Option, type Command } from 'commander';
import { integerArg, oneOfArg } from '../common/cli-parsers.ts';
import { loadConfig, type Config } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { TOPICS } from '../common/types.ts';
import { parseInjection } from '../sources/stream-inject.ts';
import { DEFAULT_IBRL_DIR, replayHistory, replayIbrl } from '../sources/replay-run.ts';
import { runSimulate } from '../sources/simulate-run.ts';
import { clusterKeys, runIngest } from './run-ingest.ts';
import { readingsTopicSpec } from './topics.ts';

// Flags only: what each command runs lives beside it (ingest/run-ingest.ts,
// sources/replay-run.ts, sources/simulate-run.ts).

/**
 * Bytes fetched per readings partition and round (kafkajs's default, about
 * 10,000 JSON readings). 64 KiB fetches held kafkajs to 16.8k messages/s
 * against 65k/s with 1 MiB; partitions read ahead of the others cost memory
 * (open ticks), never correctness (the watermark follows the slowest one).
 */
const INGEST_FETCH_BYTES = 1024 * 1024;

function configOf(command: Command, flags: Record<string, unknown> = {}): Config {
  return loadConfig({ file: command.optsWithGlobals<{ config?: string }>().config, flags });
}

/** A positive speed-up, or "max" (Infinity). */
function parseSpeed(text: string): number {
  if (text === 'max') return Infinity;
  const speed = Number(text);
  if (!Number.isFinite(speed) || speed <= 0)
    throw new UserError(
      'SPEED_INVALID',
      `--speed ${text} is not a positive number`,
      'pass e.g. --speed 600 (600× real time) or --speed max',
    );
  return speed;
}

function parseStart(text: string): number {
  const startTs = Date.parse(text);
  if (Number.isNaN(startTs))
    throw new UserError(
      'OPTION_INVALID',
      `--start ${text} is not a date`,
      'pass an ISO 8601 time with zone, e.g. 2026-01-01T00:00:00Z',
    );
  return startTs;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface IngestFlags {
  topology?: string;
  httpPort?: number;
  group: string;
  readingsTopic: string;
  dlqTopic: string;
  framesTopic: string;
  influx: boolean;
  statsInterval: number;
  fetchBytes: number;
  state?: 'file' | 'kafka';
}

function registerIngestCommand(program: Command): void {
  program
    .command('ingest')
    .description(
      'run the ingest service: wsn.readings (JSON or line protocol) → validate → align on ticks → wsn.frames; rejects to wsn.readings.dlq',
    )
    .option('--topology <file>', 'node positions (IBRL node.txt, .json, .csv); default: follow the wsn.topology topic')
    .addOption(
      new Option('--http-port <port>', 'port of /metrics, /healthz, /readyz (ingest.httpPort)').argParser(
        integerArg('--http-port'),
      ),
    )
    .option('--group <id>', 'consumer group on wsn.readings', 'wsn-ingest')
    .option('--readings-topic <name>', 'topic to read readings from', TOPICS.readings)
    .option('--dlq-topic <name>', 'topic that keeps rejected readings with the reason', TOPICS.readingsDlq)
    .option('--frames-topic <name>', 'topic to publish aligned frames on (the detector reads it)', TOPICS.frames)
    .option('--no-influx', 'do not write ingest statistics (pipeline, source=ingest) to InfluxDB (influx.url)')
    .addOption(
      new Option('--stats-interval <s>', 'seconds between ingest statistics points in InfluxDB')
        .argParser(integerArg('--stats-interval', 1))
        .default(10),
    )
    .addOption(
      new Option('--fetch-bytes <n>', 'most bytes fetched per readings partition and round')
        .argParser(integerArg('--fetch-bytes', 1024))
        .default(INGEST_FETCH_BYTES),
    )
    .addOption(
      new Option(
        '--state <where>',
        'aligner state: file (one process per group) or kafka (per partition, several processes per group; readings keyed by cluster) (ingest.state)',
      ).choices(['file', 'kafka']),
    )
    .action(async (options: IngestFlags, command: Command) => {
      const config = configOf(command, { 'ingest.httpPort': options.httpPort, 'ingest.state': options.state });
      await runIngest(config, {
        topology: options.topology,
        group: options.group,
        topics: { readings: options.readingsTopic, readingsDlq: options.dlqTopic, frames: options.framesTopic },
        influx: options.influx,
        statsIntervalSeconds: options.statsInterval,
        fetchBytes: options.fetchBytes,
      });
    });
}

function registerReplayCommands(program: Command): void {
  const replay = program
    .command('replay')
    .description('stream recorded sensor data into wsn.readings in event-time order');
  replay
    .command('ibrl')
    .description('replay the Intel Berkeley Research Lab readings (readings/<mote>.txt) as JSON readings keyed by node')
    .option('--data <dir>', 'IBRL folder holding readings/<mote>.txt', DEFAULT_IBRL_DIR)
    .option('--speed <x>', 'event-time speed-up (600 = 10 min of data per second), or "max"', '600')
    .addOption(
      new Option('--from-epoch <n>', 'first IBRL epoch (sampling round) to send').argParser(integerArg('--from-epoch')),
    )
    .addOption(new Option('--to-epoch <n>', 'last IBRL epoch to send').argParser(integerArg('--to-epoch')))
    .option(
      '--inject <spec>',
      'inject an anomaly: node:modality:kind[=magnitude]:start:length (start: IBRL epoch or ISO time); repeatable',
      collect,
      [],
    )
    .option('--topic <name>', 'topic to send to', TOPICS.readings)
    .option(
      '--key-by-cluster',
      'key readings by their node’s cluster (for several ingest processes with --state kafka), from --topology or the network’s topology on wsn.topology',
    )
    .option('--topology <file>', 'node positions to cluster for --key-by-cluster (default: follow wsn.topology)')
    .action(
      async (
        options: {
          data: string;
          speed: string;
          fromEpoch?: number;
          toEpoch?: number;
          inject: string[];
          topic: string;
          keyByCluster?: boolean;
          topology?: string;
        },
        command: Command,
      ) => {
        const config = configOf(command);
        const speed = parseSpeed(options.speed);
        const injections = options.inject.map(parseInjection);
        const keyOf = options.keyByCluster ? await clusterKeys(config, options.topology) : undefined;
        await replayIbrl(config, {
          keyOf,
          data: options.data,
          speed,
          fromEpoch: options.fromEpoch,
          toEpoch: options.toEpoch,
          injections,
          topic: readingsTopicSpec(options.topic),
        });
      },
    );

  replay
    .command('csv')
    .argument(
      '<file>',
      'history: CSV with a header (node, ts, one column per modality) or JSON lines, as `train --history` and `backtest` take',
    )
    .description('send a history file to wsn.readings in event-time order, as JSON readings keyed by node')
    .option(
      '--format <kind>',
      'csv or jsonl (default: from the file extension)',
      oneOfArg('--format', ['csv', 'jsonl'] as const),
    )
    .option('--speed <x>', 'event-time speed-up (600 = 10 min of data per second), or "max"', 'max')
    .option('--topic <name>', 'topic to send to', TOPICS.readings)
    .action(
      async (file: string, options: { format?: 'csv' | 'jsonl'; speed: string; topic: string }, command: Command) => {
        const config = configOf(command);
        const speed = parseSpeed(options.speed);
        await replayHistory(config, file, { format: options.format, speed, topic: readingsTopicSpec(options.topic) });
      },
    );
}

interface SimulateFlags {
  nodes: number;
  faults: boolean;
  seed: number;
  tickMs?: number;
  speed: string;
  ticks?: number;
  start?: string;
  topologyOut?: string;
  faultsOut?: string;
  topic: string;
}

function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'generate a synthetic sensor network (daily cycles, correlated modalities, noise, optional faults) and send its readings to wsn.readings',
    )
    .requiredOption('--nodes <n>', 'number of nodes', integerArg('--nodes', 1))
    .option('--faults', 'inject faults (stuck, spike, drift, silence) into about one node in ten', false)
    .option('--seed <n>', 'random seed', integerArg('--seed'), 1)
    .addOption(
      new Option('--tick-ms <ms>', 'sampling period (default ingest.tickMs)').argParser(integerArg('--tick-ms')),
    )
    .option('--speed <x>', 'event-time speed-up, or "max"', '1')
    .addOption(new Option('--ticks <n>', 'rounds to send (default: until stopped)').argParser(integerArg('--ticks')))
    .option('--start <iso>', 'event time of the first round (default: now when --speed 1, else so the run ends now)')
    .option(
      '--topology-out <file>',
      'also write the node positions (IBRL node.txt format) for `wsn-watch topology ...`',
    )
    .option('--faults-out <file>', 'write the injected faults (ground truth) as JSON')
    .option('--topic <name>', 'topic to send to', TOPICS.readings)
    .action(async (options: SimulateFlags, command: Command) => {
      const config = configOf(command);
      const speed = parseSpeed(options.speed);
      const startTs = options.start ? parseStart(options.start) : undefined;
      const { nodes, faults, seed, tickMs, ticks, topologyOut, faultsOut } = options;
      await runSimulate(config, {
        nodes,
        faults,
        seed,
        tickMs,
        speed,
        ticks,
        startTs,
        topologyOut,
        faultsOut,
        topic: readingsTopicSpec(options.topic),
      });
    });
}

/** Registers `wsn-watch ingest`, `wsn-watch replay ibrl`, `wsn-watch replay csv` and `wsn-watch simulate`. */
export function registerIngestCommands(program: Command): void {
  registerIngestCommand(program);
  registerReplayCommands(program);
  registerSimulateCommand(program);
}
