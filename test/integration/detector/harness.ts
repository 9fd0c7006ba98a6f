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
import type { Frame } from '../../../common/types.ts';
import { generateSyntheticNetwork } from '../../../sources/synthetic.ts';
import { DETECTOR_FORMAT } from '../../../model/metadata.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { alertPolicyFromConfig, type NodeObservation } from '../../../detector/alerts/tracker.ts';
import { FrameProcessor } from '../../../detector/service/processor.ts';
import { loadDetector } from '../../../model/index.ts';
import { Kafka, logLevel } from 'kafkajs';
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
      const nodes = [0, 1, 2].map((k) => {
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

export interface DetectorProcess {
  child: ChildProcess;
  port: number;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface DetectorArgs {
  id: string;
  group: string;
  replicaId: string;
  database: string;
  model: string;
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
    args.model,
    '--group',
    args.group,
    '--frames-topic',
    `it.frames.${args.id}`,
    '--anomalies-topic',
    `it.anomalies.${args.id}`,
    '--alerts-topic',
    `it.alerts.${args.id}`,
    '--state-topic',
    `it.state.${args.id}`,
    '--frame-partitions',
    '4',
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

/** Points per (cluster, tick) of a measurement, e.g. `system` (one per scored tick). */
export async function pointsPerClusterTick(sink: InfluxSink, measurement: string): Promise<Map<string, number>> {
  const rows = await sink
    .query<{ time: Date; cluster: string; probability: number }>(`SELECT probability, cluster FROM "${measurement}"`)
    .catch(() => []);
  const counts = new Map<string, number>();
  for (const row of rows) {
    const key = `${row.cluster}@${row.time.getTime()}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
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
