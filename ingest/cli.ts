import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { loadConfig, type Config } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { createLogger, redactUrl } from '../common/log.ts';
import { TOPICS } from '../common/types.ts';
import { createTransport } from '../transport/index.ts';
import { FileCheckpointStore } from './checkpoint.ts';
import { NodeDirectory } from './directory.ts';
import { ibrlReadingFiles, ibrlToReading, streamIbrl } from '../sources/ibrl-reader.ts';
import { StreamInjector, parseInjection, type StreamInjection } from '../sources/stream-inject.ts';
import { publishPaced, readHistoryReadings, type PublishProgress } from '../sources/publish.ts';
import { startIngestService, type IngestService } from './service.ts';
import { InfluxSink } from '../store/influx-sink.ts';
import type { TopologyFollower } from '../topology/kafka.ts';
import { Simulation, runSimulation, writeSimulatedTopology } from '../sources/simulate.ts';
import { ingestTopicSpecs, type IngestTopicNames } from './topics.ts';
import { layoutFromFile, layoutFromTopology } from './topology-source.ts';
import type { Reading } from '../common/types.ts';

/**
 * Bytes fetched per readings partition and round (kafkajs's default, about
 * 10,000 JSON readings). 64 KiB fetches held kafkajs to 16.8k messages/s
 * against 65k/s with 1 MiB; partitions read ahead of the others cost memory
 * (open ticks), never correctness (the watermark follows the slowest one).
 */
const INGEST_FETCH_BYTES = 1024 * 1024;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_IBRL = resolve(repoRoot, '../shared/data/ibrl');

function configOf(command: Command, flags: Record<string, unknown> = {}): Config {
  return loadConfig({ file: command.optsWithGlobals<{ config?: string }>().config, flags });
}

function parseSpeed(text: string): number {
  if (text === 'max') return Infinity;
  const speed = Number(text);
  if (!Number.isFinite(speed) || speed <= 0) throw new UserError('SPEED_INVALID', `--speed ${text} is not a positive number`, 'pass e.g. --speed 600 (600× real time) or --speed max');
  return speed;
}

function parseInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value)) throw new UserError('OPTION_INVALID', `${name} ${text} is not an integer`, `pass an integer to ${name}`);
    return value;
  };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function progressPrinter(what: string, signal?: AbortSignal): (p: PublishProgress) => void {
  const started = Date.now();
  return (p) => {
    if (!p.done && signal?.aborted) {
      process.stderr.write(`${what}: stopped, ${p.sent} readings sent${p.eventTs === null ? '' : `, up to event time ${new Date(p.eventTs).toISOString()}`}\n`);
      return;
    }
    const seconds = (Date.now() - started) / 1000;
    const at = p.eventTs === null ? '' : `, event time ${new Date(p.eventTs).toISOString()}`;
    process.stderr.write(`${what}: ${p.done ? 'done, ' : ''}${p.sent} readings sent in ${seconds.toFixed(1)} s${at}\n`);
  };
}

/** Resolves on SIGINT/SIGTERM; the abort signal lets long loops stop. */
function shutdownSignal(): { signal: AbortSignal; stopped: Promise<string> } {
  const controller = new AbortController();
  const stopped = new Promise<string>((resolveStop) => {
    const on = (name: string) => () => {
      controller.abort();
      resolveStop(name);
    };
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
  return { signal: controller.signal, stopped };
}

/** Registers `wsn-watch ingest`, `wsn-watch replay ibrl`, `wsn-watch replay csv` and `wsn-watch simulate`. */
export function registerIngestCommands(program: Command): void {
  program
    .command('ingest')
    .description('run the ingest service: wsn.readings (JSON or line protocol) → validate → align on ticks → wsn.frames; rejects to wsn.readings.dlq')
    .option('--topology <file>', 'node positions (IBRL node.txt, .json, .csv); default: follow the wsn.topology topic')
    .addOption(new Option('--http-port <port>', 'port of /metrics, /healthz, /readyz (ingest.httpPort)').argParser(parseInteger('--http-port')))
    .option('--group <id>', 'consumer group on wsn.readings', 'wsn-ingest')
    .option('--readings-topic <name>', 'topic to read readings from', TOPICS.readings)
    .option('--dlq-topic <name>', 'topic that keeps rejected readings with the reason', TOPICS.readingsDlq)
    .option('--frames-topic <name>', 'topic to publish aligned frames on (the detector reads it)', TOPICS.frames)
    .option('--no-influx', 'do not write ingest statistics (pipeline, source=ingest) to InfluxDB (influx.url)')
    .addOption(new Option('--stats-interval <s>', 'seconds between ingest statistics points in InfluxDB').argParser(parseInteger('--stats-interval')).default(10))
    .addOption(new Option('--fetch-bytes <n>', 'most bytes fetched per readings partition and round').argParser(parseInteger('--fetch-bytes')).default(INGEST_FETCH_BYTES))
    .action(async (options: { topology?: string; httpPort?: number; group: string; readingsTopic: string; dlqTopic: string; framesTopic: string; influx: boolean; statsInterval: number; fetchBytes: number }, command: Command) => {
      const config = configOf(command, { 'ingest.httpPort': options.httpPort });
      const logger = createLogger('ingest');
      let directory: NodeDirectory;
      let service: IngestService | null = null;
      let follower: TopologyFollower | null = null;
      if (options.topology) {
        directory = new NodeDirectory(layoutFromFile(config.network, options.topology));
      } else {
        const { TopologyFollower: Follower } = await import('../topology/kafka.ts');
        follower = new Follower({ brokers: config.kafka.brokers, clientId: config.kafka.clientId, network: config.network, logger });
        process.stderr.write(`ingest: waiting for the topology of network "${config.network}" on ${TOPICS.topology} (publish one with \`wsn-watch topology publish FILE\`, or pass --topology FILE)\n`);
        await follower.start(async (topology, version) => {
          if (!service) return;
          await service.pipeline.setDirectory(new NodeDirectory(layoutFromTopology(config.network, topology)));
          logger.info({ version }, 'ingest now uses the new topology');
        });
        const topology = await follower.waitFor(() => true, 120_000).catch((error: unknown) => {
          throw new UserError('TOPOLOGY_MISSING', `no topology for network "${config.network}" on ${TOPICS.topology}: ${(error as Error).message}`, 'run `wsn-watch topology publish <node file>` or pass --topology FILE');
        });
        directory = new NodeDirectory(layoutFromTopology(config.network, topology));
      }
      if (options.fetchBytes < 1024) throw new UserError('OPTION_INVALID', `--fetch-bytes ${options.fetchBytes} is below 1024`, 'pass e.g. --fetch-bytes 1048576');
      const transport = createTransport(config, { logger, kafka: { maxBytesPerPartition: options.fetchBytes } });
      const checkpoints = new FileCheckpointStore(resolve(config.stateDir), config.network, options.group);
      if (options.statsInterval < 1) throw new UserError('OPTION_INVALID', `--stats-interval ${options.statsInterval} is below 1 second`, 'pass e.g. --stats-interval 10');
      let stats: { writer: InfluxSink; intervalMs: number; url: string } | undefined;
      if (options.influx) {
        // No retries: a missed point is covered by the next one, and ingest must not wait on InfluxDB.
        const writer = new InfluxSink({ url: config.influx.url, database: config.influx.database, auth: config.influx, retries: 0, logger });
        await writer.ensureDatabase().catch((error: Error) => {
          process.stderr.write(`ingest: warning: InfluxDB at ${redactUrl(config.influx.url)} is not reachable (${error.message}); ingest runs and retries the statistics every ${options.statsInterval} s (--no-influx turns them off)\n`);
        });
        stats = { writer, intervalMs: options.statsInterval * 1000, url: redactUrl(config.influx.url) };
      }
      const topics: IngestTopicNames = { readings: options.readingsTopic, readingsDlq: options.dlqTopic, frames: options.framesTopic };
      const notReadyReason = (): string | null => (follower && !follower.health().following ? `topology follower: ${follower.health().reason ?? 'not following'}` : null);
      const running = await startIngestService({ config, transport, directory, checkpoints, logger, groupId: options.group, stats, topics, notReadyReason });
      service = running;
      process.stderr.write(
        `ingest: network "${config.network}", ${topics.readings} → ${topics.frames} (rejects: ${topics.readingsDlq}), ${directory.nodeCount} nodes in ${directory.clusters.length} cluster(s), topology ${directory.version.slice(0, 12)}; ` +
          `tick ${config.ingest.tickMs} ms, lateness ${config.ingest.allowedLatenessMs} ms; checkpoint ${checkpoints.file}; http://127.0.0.1:${running.httpPort}/metrics\n`,
      );
      const { stopped } = shutdownSignal();
      const name = await stopped;
      process.stderr.write(`ingest: ${name}, finishing the current batch, checkpointing and committing\n`);
      await running.stop();
      await follower?.stop();
      await transport.close();
    });

  const replay = program.command('replay').description('stream recorded sensor data into wsn.readings in event-time order');
  replay
    .command('ibrl')
    .description('replay the Intel Berkeley Research Lab readings (readings/<mote>.txt) as JSON readings keyed by node')
    .option('--data <dir>', 'IBRL folder holding readings/<mote>.txt', DEFAULT_IBRL)
    .option('--speed <x>', 'event-time speed-up (600 = 10 min of data per second), or "max"', '600')
    .addOption(new Option('--from-epoch <n>', 'first IBRL epoch (sampling round) to send').argParser(parseInteger('--from-epoch')))
    .addOption(new Option('--to-epoch <n>', 'last IBRL epoch to send').argParser(parseInteger('--to-epoch')))
    .option('--inject <spec>', 'inject an anomaly: node:modality:kind[=magnitude]:start:length (start: IBRL epoch or ISO time); repeatable', collect, [])
    .option('--topic <name>', 'topic to send to', TOPICS.readings)
    .action(async (options: { data: string; speed: string; fromEpoch?: number; toEpoch?: number; inject: string[]; topic: string }, command: Command) => {
      const config = configOf(command);
      const speed = parseSpeed(options.speed);
      const injections: StreamInjection[] = options.inject.map(parseInjection);
      const injector = new StreamInjector(injections);
      const dir = resolve(options.data);
      ibrlReadingFiles(dir); // a missing or empty folder is reported before connecting to Kafka
      let badLines = 0;
      const readings = async function* (): AsyncGenerator<Reading> {
        for await (const raw of streamIbrl(dir, {
          fromEpoch: options.fromEpoch,
          toEpoch: options.toEpoch,
          onBadLine: (issue) => {
            badLines++;
            process.stderr.write(`replay: ${issue.file}:${issue.line}: ${issue.message} (skipped)\n`);
          },
        })) {
          yield injector.apply(ibrlToReading(raw, config.network), raw.epoch);
        }
      };
      const transport = createTransport(config);
      await transport.ensureTopics(ingestTopicSpecs().filter((s) => s.topic === TOPICS.readings).map((s) => ({ ...s, topic: options.topic })));
      const producer = await transport.producer();
      const { signal } = shutdownSignal();
      process.stderr.write(`replay: ${dir} → ${options.topic} (network "${config.network}") at ${Number.isFinite(speed) ? `${speed}×` : 'max'} speed${injections.length ? `, ${injections.length} injection(s)` : ''}\n`);
      try {
        const result = await publishPaced(readings(), { producer, topic: options.topic, speed, signal, onProgress: progressPrinter('replay', signal) });
        process.stdout.write(`sent ${result.sent} readings to ${options.topic}; ${injector.applied.length} value(s) injected; ${badLines} bad line(s) skipped\n`);
      } finally {
        await producer.close();
        await transport.close();
      }
    });

  replay
    .command('csv')
    .argument('<file>', 'history: CSV with a header (node, ts, one column per modality) or JSON lines, as `train --history` and `backtest` take')
    .description('send a history file to wsn.readings in event-time order, as JSON readings keyed by node')
    .option('--format <kind>', 'csv or jsonl (default: from the file extension)')
    .option('--speed <x>', 'event-time speed-up (600 = 10 min of data per second), or "max"', 'max')
    .option('--topic <name>', 'topic to send to', TOPICS.readings)
    .action(async (file: string, options: { format?: string; speed: string; topic: string }, command: Command) => {
      const config = configOf(command);
      const speed = parseSpeed(options.speed);
      if (options.format !== undefined && options.format !== 'csv' && options.format !== 'jsonl') throw new UserError('OPTION_INVALID', `--format ${options.format} is not csv or jsonl`, 'pass --format csv or --format jsonl');
      // The whole file is read and checked before connecting: a bad line stops the replay before anything is sent.
      const history = await readHistoryReadings(resolve(file), config.network, options.format as 'csv' | 'jsonl' | undefined);
      const transport = createTransport(config);
      await transport.ensureTopics(ingestTopicSpecs().filter((s) => s.topic === TOPICS.readings).map((s) => ({ ...s, topic: options.topic })));
      const producer = await transport.producer();
      const { signal } = shutdownSignal();
      process.stderr.write(
        `replay: ${file}: ${history.readings.length} readings of ${history.nodes.length} nodes from ${new Date(history.readings[0].ts).toISOString()} to ${new Date(history.readings[history.readings.length - 1].ts).toISOString()} → ${options.topic} (network "${config.network}") at ${Number.isFinite(speed) ? `${speed}×` : 'max'} speed\n`,
      );
      try {
        const result = await publishPaced(history.readings, { producer, topic: options.topic, speed, signal, onProgress: progressPrinter('replay', signal) });
        process.stdout.write(`sent ${result.sent} readings to ${options.topic}${history.emptyRows ? `; ${history.emptyRows} row(s) without any value skipped` : ''}\n`);
      } finally {
        await producer.close();
        await transport.close();
      }
    });

  program
    .command('simulate')
    .description('generate a synthetic sensor network (daily cycles, correlated modalities, noise, optional faults) and send its readings to wsn.readings')
    .requiredOption('--nodes <n>', 'number of nodes', parseInteger('--nodes'))
    .option('--faults', 'inject faults (stuck, spike, drift, silence) into about one node in ten', false)
    .option('--seed <n>', 'random seed', parseInteger('--seed'), 1)
    .addOption(new Option('--tick-ms <ms>', 'sampling period (default ingest.tickMs)').argParser(parseInteger('--tick-ms')))
    .option('--speed <x>', 'event-time speed-up, or "max"', '1')
    .addOption(new Option('--ticks <n>', 'rounds to send (default: until stopped)').argParser(parseInteger('--ticks')))
    .option('--start <iso>', 'event time of the first round (default: now when --speed 1, else so the run ends now)')
    .option('--topology-out <file>', 'also write the node positions (IBRL node.txt format) for `wsn-watch topology ...`')
    .option('--faults-out <file>', 'write the injected faults (ground truth) as JSON')
    .option('--topic <name>', 'topic to send to', TOPICS.readings)
    .action(async (options: { nodes: number; faults: boolean; seed: number; tickMs?: number; speed: string; ticks?: number; start?: string; topologyOut?: string; faultsOut?: string; topic: string }, command: Command) => {
      const config = configOf(command);
      const speed = parseSpeed(options.speed);
      const tickMs = options.tickMs ?? config.ingest.tickMs;
      if (options.nodes < 1) throw new UserError('OPTION_INVALID', '--nodes must be at least 1', 'pass e.g. --nodes 50');
      let startTs: number;
      if (options.start) {
        startTs = Date.parse(options.start);
        if (Number.isNaN(startTs)) throw new UserError('OPTION_INVALID', `--start ${options.start} is not a date`, 'pass an ISO 8601 time with zone, e.g. 2026-01-01T00:00:00Z');
      } else {
        const now = Math.floor(Date.now() / tickMs) * tickMs;
        startTs = speed === 1 ? now : now - (options.ticks ?? Math.round(86_400_000 / tickMs)) * tickMs;
      }
      const simulation = new Simulation({ nodes: options.nodes, seed: options.seed, network: config.network, tickMs, startTs, faults: options.faults });
      if (options.topologyOut) {
        writeSimulatedTopology(options.topologyOut, { nodes: options.nodes, seed: options.seed });
        process.stderr.write(`simulate: node positions written to ${options.topologyOut}\n`);
      }
      if (options.faultsOut) writeFileSync(options.faultsOut, JSON.stringify(simulation.faults, null, 2) + '\n');
      for (const f of simulation.faults) {
        process.stderr.write(`simulate: fault ${f.kind} on node ${f.node}${f.modality === '*' ? '' : ` ${f.modality}`} from ${new Date(f.fromTs).toISOString()} to ${new Date(f.toTs).toISOString()}\n`);
      }
      const transport = createTransport(config);
      await transport.ensureTopics(ingestTopicSpecs().filter((s) => s.topic === TOPICS.readings).map((s) => ({ ...s, topic: options.topic })));
      const producer = await transport.producer();
      const { signal } = shutdownSignal();
      process.stderr.write(`simulate: ${options.nodes} nodes, network "${config.network}", tick ${tickMs} ms, from ${new Date(startTs).toISOString()} at ${Number.isFinite(speed) ? `${speed}×` : 'max'} speed → ${options.topic}\n`);
      try {
        const result = await runSimulation(simulation, { producer, topic: options.topic, ticks: options.ticks, speed, signal, onProgress: progressPrinter('simulate', signal) });
        process.stdout.write(`sent ${result.sent} readings to ${options.topic}\n`);
      } finally {
        await producer.close();
        await transport.close();
      }
    });
}
