/**
 * Shared pieces of the detector's integration suites: a small real model
 * trained by `wsn-watch train`, frames from the same synthetic generator,
 * the detector run as a child process (`node bin/wsn-watch.mjs detect`) and
 * InfluxDB queries. Services come from `wsn-watch services up`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { freePort } from '../../support/ports.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { Transport, TransportProducer } from '../../../common/transport.ts';
import type { Frame } from '../../../common/types.ts';
import { alertPolicyFromConfig, type NodeObservation } from '../../../detector/alerts/tracker.ts';
import { FrameProcessor } from '../../../detector/service/processor.ts';
import { DEFAULT_CONTEXT_CONFIG, loadDetector } from '../../../model/index.ts';
import { generateSyntheticNetwork } from '../../../sources/synthetic.ts';
import { DETECTOR_FORMAT } from '../../../model/metadata.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { KafkaTransport } from '../../../transport/index.ts';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { activeAlerts, type AlertmanagerAlert } from '../../support/alertmanager.ts';
import { waitFor } from '../../support/wait.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const config = loadConfig({ env: { ...process.env, WSN_CONFIG: '' } });
export const TICK_MS = 31_000;
export const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
export const WINDOW = 5;

/** A unique suffix for topics, groups and databases of one test. */
export const uniqueId = (): string => randomUUID().slice(0, 8);

/**
 * Trains (once per machine and seed; about 30 s) a small detector with the
 * real training command: 6 synthetic nodes, window 5, four short epochs.
 */
export function tinyModel(): string {
  // The model format is part of the name: work trees of different versions share the temp folder.
  const dir = path.join(
    tmpdir(),
    'wsn-watch-test-models',
    `detector-small-w5-s3-e4-simulator-${DETECTOR_FORMAT.replace(/\W+/g, '-')}`,
  );
  if (existsSync(path.join(dir, 'model.json')) && existsSync(path.join(dir, 'weights.bin'))) return dir;
  mkdirSync(dir, { recursive: true });
  const args = [
    'bin/wsn-watch.mjs',
    'train',
    '--synthetic',
    '--nodes',
    '6',
    '--steps',
    '600',
    '--epochs',
    '4',
    '--window',
    String(WINDOW),
    '--windows-per-epoch',
    '256',
    '--seed',
    '3',
    '--out',
    dir,
  ];
  const result = spawnSync(process.execPath, args, {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, WSN_LOG_LEVEL: 'warn' },
  });
  if (result.status !== 0) throw new Error(`training the test model failed (${result.status}): ${result.stderr}`);
  return dir;
}

/**
 * Frames of `clusters` clusters × 3 nodes (ids 1..6 reused per cluster so
 * the model's training statistics apply) for ticks [from, to], from the
 * synthetic generator the model was trained on.
 */
/** Nodes in each cluster of `makeFrames`. */
export const NODES_PER_CLUSTER = 3;

export function makeFrames(
  network: string,
  clusters: number,
  from: number,
  to: number,
  options: { surge?: { cluster: number; node: number; ticks: [number, number] } } = {},
): Frame[] {
  const synthetic = generateSyntheticNetwork({ nodes: 6, steps: to + 1, seed: 11 });
  const { data, modalities } = synthetic.series;
  const m = modalities.length;
  const frames: Frame[] = [];
  for (let tick = from; tick <= to; tick++) {
    for (let c = 0; c < clusters; c++) {
      const nodes = Array.from({ length: NODES_PER_CLUSTER }, (_, k) => {
        const n = (c + k) % 6;
        const values: Record<string, number | null> = {};
        modalities.forEach((modality, j) => {
          let value = data[(tick * 6 + n) * m + j];
          const surge = options.surge;
          if (
            surge &&
            surge.cluster === c &&
            surge.node === k &&
            tick >= surge.ticks[0] &&
            tick <= surge.ticks[1] &&
            modality === 'humidity'
          )
            value += 40;
          values[modality] = value;
        });
        return { node: `${n + 1}`, values, staleTicks: 0, silent: false };
      });
      frames.push({ network, cluster: `c${c}`, tick: T0 + tick * TICK_MS, topologyVersion: 'test', nodes });
    }
  }
  return frames;
}

/** Partitions of a test's frames topic (the detector is told the same). */
export const FRAME_PARTITIONS = 4;

/** Creates the test's frames topic (`it.frames.<id>`) before a detector subscribes to it. */
export function createFramesTopic(transport: Transport, id: string): Promise<void> {
  return transport.ensureTopics([{ topic: `it.frames.${id}`, partitions: FRAME_PARTITIONS }]);
}

export interface DetectorProcess {
  child: ChildProcess;
  port: number;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface DetectorArgs {
  id: string;
  /** The consumer group; `it-detector-<replicaId>-<id>` unless given. */
  group?: string;
  replicaId: string;
  database: string;
  /** The model folder; the suites' small model (tinyModel) unless given. */
  model?: string;
  threshold?: number;
  alertmanager?: boolean;
  /** Follow wsn.topology (default false: the suites feed frames without a published topology). */
  topology?: boolean;
  /** Extra environment, e.g. WSN_NETWORK. */
  env?: Record<string, string>;
}

/** Starts `wsn-watch detect` as a child process on topics of its own; resolves once /readyz answers 200. */
export async function startDetector(args: DetectorArgs): Promise<DetectorProcess> {
  const port = await freePort();
  const logDir = path.join(tmpdir(), 'wsn-watch-test-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `detect-${args.id}-${args.replicaId}.log`);
  const cli = [
    'bin/wsn-watch.mjs',
    'detect',
    '--model',
    args.model ?? tinyModel(),
    '--group',
    args.group ?? `it-detector-${args.replicaId}-${args.id}`,
    '--frames-topic',
    `it.frames.${args.id}`,
    '--anomalies-topic',
    `it.anomalies.${args.id}`,
    '--alerts-topic',
    `it.alerts.${args.id}`,
    '--state-topic',
    `it.state.${args.id}`,
    '--frame-partitions',
    String(FRAME_PARTITIONS),
    '--influx-database',
    args.database,
    '--http-port',
    String(port),
    '--replica-id',
    args.replicaId,
    ...(args.topology ? [] : ['--no-topology']),
    ...(args.threshold !== undefined ? ['--threshold', String(args.threshold)] : []),
    ...(args.alertmanager === false ? ['--no-alertmanager'] : []),
  ];
  const child = spawn(process.execPath, cli, {
    cwd: repoRoot,
    env: {
      ...process.env,
      WSN_LOG_LEVEL: 'info',
      WSN_ALERT_AFTER_TICKS: '2',
      WSN_RESOLVE_AFTER_TICKS: '2',
      ...args.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stderr?.pipe(log);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(
    `detector ${args.replicaId} /readyz (log ${logFile})`,
    async () => {
      if (gone) throw new Error(`detector ${args.replicaId} exited before it was ready; see ${logFile}`);
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.status === 200;
    },
    120_000,
  );
  return { child, port, logFile, exited };
}

export function influx(database: string): InfluxSink {
  return new InfluxSink({ url: config.influx.url, database, retries: 2 });
}

/**
 * Deletes the topics a test created (`it.*.<id>`, and the `named` ones, e.g.
 * its silences topic), so runs do not pile up topics on the shared broker.
 */
export async function deleteTestTopics(ids: string[], named: string[] = []): Promise<void> {
  if (ids.length === 0 && named.length === 0) return;
  const admin = new Kafka({
    clientId: 'wsn-detector-it-cleanup',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = ids
      .flatMap((id) => ['frames', 'anomalies', 'alerts', 'state'].map((kind) => `it.${kind}.${id}`))
      .concat(named)
      .filter((topic) => existing.has(topic));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

export interface DetectorSuite {
  transport: KafkaTransport;
  /** Opened before the suite's own hooks run. */
  producer: TransportProducer;
  /** Creates the frames topic of `args.id` and starts a detector on it (stopped after the suite if still running). */
  start(args: DetectorArgs): Promise<DetectorProcess>;
  /** Sends frames to the frames topic of test `id`, keyed by cluster as ingest does. */
  send(id: string, frames: Frame[]): Promise<void>;
}

/**
 * The surroundings of a describe block (or file) that runs detectors on the
 * shared broker: a transport and producer of its own, opened before its
 * tests; afterwards the detectors still running are killed, producer and
 * transport closed, the topics of every test id deleted, then `afterClose`.
 */
export function useDetectorSuite(clientId: string, afterClose?: () => Promise<void>): DetectorSuite {
  const detectors: DetectorProcess[] = [];
  const ids = new Set<string>();
  const suite = {
    transport: new KafkaTransport({ brokers: config.kafka.brokers, clientId, logger: createLogger('test', 'silent') }),
    async start(args: DetectorArgs): Promise<DetectorProcess> {
      ids.add(args.id);
      await createFramesTopic(suite.transport, args.id);
      const detector = await startDetector(args);
      detectors.push(detector);
      return detector;
    },
    send(id: string, frames: Frame[]): Promise<void> {
      return suite.producer.send(
        `it.frames.${id}`,
        frames.map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame) })),
      );
    },
  } as DetectorSuite;
  beforeAll(async () => {
    suite.producer = await suite.transport.producer();
  });
  afterAll(async () => {
    for (const { child } of detectors) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await suite.producer?.close();
    await suite.transport.close();
    await deleteTestTopics([...ids]);
    await afterClose?.();
  });
  return suite;
}

/** The alerts the shared Alertmanager lists for one node of a network (active ones: resolved alerts drop out). */
export function alertmanagerAlerts(network: string, node: string): Promise<AlertmanagerAlert[]> {
  return activeAlerts(config.alertmanager.url, { network, node });
}

/** The model's context warm-up (DEFAULT_CONTEXT_CONFIG.warmupTicks): the detector's first verdicts come after it. */
export const WARMUP_TICKS = DEFAULT_CONTEXT_CONFIG.warmupTicks;

/** One node's course under the small model: what the alert tracker observes per tick, and the node's probabilities. */
export interface NodeCourse {
  /** The ticks after the warm-up, in order. */
  ticks: number[];
  /** What the tracker observes of every node of the cluster at each of those ticks. */
  observations: Map<number, NodeObservation[]>;
  /** Thresholds to try, highest first: midpoints between the node's distinct probabilities, so float noise between runs cannot flip a tick. */
  thresholds: number[];
  /** The node's distinct probabilities, highest first (for a failure message). */
  probabilities: number[];
}

/**
 * Scores the frames once with the small model, as the detector does, and
 * returns the course of `node` in `cluster` after the model's warm-up (the
 * detector gives no verdict before it), for a test to pick a threshold under
 * which the node alerts as the test needs.
 */
export async function nodeCourse(frames: Frame[], cluster: string, node: string): Promise<NodeCourse> {
  const model = await loadDetector(tinyModel());
  const observations = new Map<number, NodeObservation[]>();
  try {
    const probe = new FrameProcessor({ model, policy: alertPolicyFromConfig(config) });
    for (const score of (await probe.process(frames)).scores.filter((s) => s.cluster === cluster))
      observations.set(
        score.tick,
        score.nodes.map((n) => ({
          node: n.node,
          probability: n.probability,
          reconstructionError: n.reconstructionError,
          silent: false,
        })),
      );
  } finally {
    model.dispose();
  }
  const ticks = [...observations.keys()].filter((tick) => tick >= T0 + WARMUP_TICKS * TICK_MS).sort((a, b) => a - b);
  const probabilities = [
    ...new Set(ticks.map((tick) => observations.get(tick)!.find((o) => o.node === node)!.probability ?? 0)),
  ].sort((a, b) => b - a);
  const thresholds = probabilities.slice(1).map((next, i) => (probabilities[i] + next) / 2);
  return { ticks, observations, thresholds, probabilities };
}

/** A metric of a detector's /metrics: the first sample of `name` whose line contains `labels`; NaN when absent. */
export async function scrapeMetric(port: number, name: string, labels = ''): Promise<number> {
  // A fresh connection per scrape: a reused keep-alive socket the server just closed fails the fetch.
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: 'close' } });
  const line = (await response.text())
    .split('\n')
    .find((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && l.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

/**
 * What the alert tracker sees of every scored tick of one cluster (default:
 * the first frame's) when the small model scores `frames` in process, by tick.
 */
export async function probeObservations(
  frames: Frame[],
  cluster = frames[0]?.cluster,
): Promise<Map<number, NodeObservation[]>> {
  const model = await loadDetector(tinyModel());
  const observations = new Map<number, NodeObservation[]>();
  try {
    const probe = new FrameProcessor({ model, policy: alertPolicyFromConfig(config) });
    for (const score of (await probe.process(frames)).scores.filter((s) => s.cluster === cluster))
      observations.set(
        score.tick,
        score.nodes.map((n) => ({
          node: n.node,
          probability: n.probability,
          reconstructionError: n.reconstructionError,
          silent: false,
        })),
      );
  } finally {
    model.dispose();
  }
  return observations;
}

/** Runs `wsn-watch <command> ...args` without a config file, with `env` added; its stdout, or an error with its stderr. */
export function runCli(command: string, args: string[], env: Record<string, string>): string {
  const result = spawnSync(process.execPath, ['bin/wsn-watch.mjs', command, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, WSN_CONFIG: '', ...env },
  });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}
