/**
 * The end-to-end pipeline of one test, on the real services: its own topics,
 * consumer groups, InfluxDB database and network name (all carrying a
 * per-test id), the ingest service in-process (`startIngestService`, the
 * function `wsn-watch ingest` runs, so it can use the test's topics), the
 * detector and the IBRL replay as child processes of the real CLI
 * (`node bin/wsn-watch.mjs detect` / `replay ibrl`).
 *
 * By default on the shared services; `PipelineServices` points it at others
 * (the secured ones of ibrl-secure.test.ts): their addresses and credentials
 * as WSN_* variables and a config file (for `kafka.ssl`), used alike by the
 * in-process ingest, the children and the test's own clients.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { freePort } from '../../support/ports.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { IncomingMessage } from '../../../common/transport.ts';
import type { Alert } from '../../../common/types.ts';
import { MemoryCheckpointStore } from '../../../ingest/checkpoint.ts';
import { NodeDirectory } from '../../../ingest/directory.ts';
import { startIngestService, type IngestService } from '../../../ingest/service.ts';
import type { IngestTopicNames } from '../../../ingest/topics.ts';
import { layoutFromFile, layoutFromTopology } from '../../../ingest/topology-source.ts';
import { createTopology, loadTopology } from '../../../topology/index.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { kafkaSecurity } from '../../../transport/security.ts';
import { runId } from '../foundation/services.ts';
import { repoRoot } from './ibrl-slice.ts';
import { countOf } from '../../support/metrics.ts';
import { waitFor } from '../../support/wait.ts';
import { activeAlerts, type AlertmanagerAlert } from '../../support/alertmanager.ts';
import { expect } from 'vitest';

export const TICK_MS = 31_000;
/** Bytes fetched per readings partition and round, as `wsn-watch ingest` does. */
const INGEST_FETCH_BYTES = 64 * 1024;
const LOG_DIR = path.join(tmpdir(), 'wsn-watch-e2e', 'logs');

/** Alert settings of a test, passed to the detector as WSN_* variables. */
export interface AlertSettings {
  threshold: number;
  alertAfterTicks: number;
  resolveAfterTicks: number;
  /** Resolve below threshold × resolveRatio (the product's default when absent). */
  resolveRatio?: number;
}

export interface ChildRun {
  child: ChildProcess;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
}

/** Runs `node bin/wsn-watch.mjs ...args` with the test's environment; stderr goes to a log file. */
export function runCli(name: string, args: string[], env: Record<string, string>): ChildRun {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${name}.log`);
  const child = spawn(process.execPath, ['bin/wsn-watch.mjs', ...args], {
    cwd: repoRoot,
    // WSN_CONFIG emptied: a developer's config file must not redirect the test.
    env: { ...process.env, WSN_CONFIG: '', WSN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stderr?.pipe(log);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, logFile, exited, stdout: () => out };
}

/** Services other than the shared ones: WSN_* variables (addresses, credentials) and a config file. */
export interface PipelineServices {
  env: Record<string, string>;
  /** A JSON config file (e.g. `kafka.ssl`, which has no variable); children get it as WSN_CONFIG. */
  configFile?: string;
}

/** A child service with its /metrics, /healthz and /readyz port. */
export interface ServiceRun extends ChildRun {
  port: number;
}
export type DetectorRun = ServiceRun;

/**
 * One end-to-end pipeline. `close()` stops everything it started (SIGKILL for
 * children still running) and drops its database; call it in afterAll.
 */
export class Pipeline {
  readonly id = runId();
  readonly network: string;
  readonly database: string;
  readonly topics: IngestTopicNames & { anomalies: string; alerts: string; state: string };
  readonly config: Config;
  readonly influx: InfluxSink;
  readonly transport: KafkaTransport;
  ingest: IngestService | null = null;
  directory: NodeDirectory | null = null;
  private readonly children: ChildRun[] = [];
  /** What every child gets on top of its own variables: the services' settings. */
  private readonly childEnv: Record<string, string>;
  /** Log of what runs in this process (ingest, the test's Kafka clients). */
  readonly logFile: string;
  private readonly log: WriteStream;
  private closed = false;

  constructor(
    readonly name: string,
    services: PipelineServices = { env: {} },
  ) {
    this.network = `e2e-${name}-${this.id}`;
    this.database = `wsn_e2e_${name.replace(/\W/g, '_')}_${this.id}`;
    const t = `e2e.${name}.${this.id}`;
    this.topics = {
      readings: `${t}.readings`,
      readingsDlq: `${t}.dlq`,
      frames: `${t}.frames`,
      anomalies: `${t}.anomalies`,
      alerts: `${t}.alerts`,
      state: `${t}.state`,
    };
    // Partitions are never declared idle during a test (see ibrl-slice.ts): every
    // readings partition carries a mote, so the watermark moves with the data and
    // the set of emitted ticks depends on the data only, not on timing.
    this.childEnv = { ...services.env, ...(services.configFile ? { WSN_CONFIG: services.configFile } : {}) };
    this.config = loadConfig({
      file: services.configFile,
      env: {
        ...process.env,
        WSN_CONFIG: '',
        ...services.env,
        WSN_NETWORK: this.network,
        WSN_PARTITION_IDLE_MS: String(30 * 60_000),
      },
    });
    mkdirSync(LOG_DIR, { recursive: true });
    this.logFile = path.join(LOG_DIR, `${name}-${this.id}-in-process.log`);
    this.log = createWriteStream(this.logFile);
    this.influx = new InfluxSink({
      url: this.config.influx.url,
      database: this.database,
      auth: this.config.influx,
      retries: 2,
    });
    this.transport = new KafkaTransport({
      brokers: this.config.kafka.brokers,
      clientId: `e2e-${this.id}`,
      logger: createLogger('e2e-kafka', 'warn', this.log),
      maxBytesPerPartition: INGEST_FETCH_BYTES,
      security: kafkaSecurity(this.config.kafka),
    });
  }

  /** Runs the CLI with the services' settings and the test's own variables. */
  private cli(name: string, args: string[], env: Record<string, string>): ChildRun {
    const run = runCli(`${this.name}-${this.id}-${name}`, args, { ...this.childEnv, ...env });
    this.children.push(run);
    return run;
  }

  /** Every log this pipeline wrote: its children's stderr and the in-process log. */
  logFiles(): string[] {
    return [this.logFile, ...this.children.map((run) => run.logFile)];
  }

  /** Everything its children printed on stdout. */
  childOutput(): string {
    return this.children.map((run) => run.stdout()).join('');
  }

  /**
   * Starts ingest in-process on the test's topics, with the nodes of
   * `nodeFile` clustered by the topology module (default: its default
   * clustering; `maxClusterSize` splits the nodes into more clusters).
   */
  async startIngest(nodeFile: string, options: { maxClusterSize?: number } = {}): Promise<IngestService> {
    const layout =
      options.maxClusterSize === undefined
        ? layoutFromFile(this.network, nodeFile)
        : layoutFromTopology(
            this.network,
            createTopology(loadTopology(nodeFile), { cluster: { maxSize: options.maxClusterSize } }),
          );
    this.directory = new NodeDirectory(layout);
    this.ingest = await startIngestService({
      config: this.config,
      transport: this.transport,
      directory: this.directory,
      checkpoints: new MemoryCheckpointStore(),
      logger: createLogger('e2e-ingest', 'info', this.log),
      http: false,
      groupId: `e2e-ingest-${this.id}`,
      topics: this.topics,
    });
    return this.ingest;
  }

  /**
   * `wsn-watch ingest` as a child process on the test's topics (given by
   * flags), for the nodes of `nodeFile` (null: the network's topology on
   * wsn.topology); resolves when /readyz answers 200. `name`, extra `args` and
   * `env` for several processes (scale-out: `--state kafka`).
   */
  async startIngestCli(
    nodeFile: string | null,
    options: { name?: string; args?: string[]; env?: Record<string, string> } = {},
  ): Promise<ServiceRun> {
    const port = await freePort();
    const args = [
      'ingest',
      ...(nodeFile === null ? [] : ['--topology', nodeFile]),
      '--group',
      `e2e-ingest-cli-${this.id}`,
      '--readings-topic',
      this.topics.readings,
      '--dlq-topic',
      this.topics.readingsDlq,
      '--frames-topic',
      this.topics.frames,
      '--http-port',
      String(port),
      '--no-influx',
      ...(options.args ?? []),
    ];
    const name = options.name ?? 'ingest';
    const run = this.cli(name, args, {
      WSN_NETWORK: this.network,
      WSN_PARTITION_IDLE_MS: String(30 * 60_000),
      WSN_STATE_DIR: path.join(tmpdir(), 'wsn-watch-e2e', `state-${this.id}`),
      ...options.env,
    });
    await this.untilReady(name, run, port);
    return { ...run, port };
  }

  /** Polls the child's /readyz until 200; fails early if the child exits. */
  private async untilReady(what: string, run: ChildRun, port: number): Promise<void> {
    let gone = false;
    void run.exited.then(() => (gone = true));
    await waitFor(`${what} /readyz (log ${run.logFile})`, async () => {
      if (gone) throw new Error(`${what} exited before it was ready; see ${run.logFile}`);
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.status === 200;
    });
  }

  /** `wsn-watch detect` on the test's topics and database; resolves when /readyz answers 200. */
  async startDetector(
    replica: string,
    model: string,
    alerts: AlertSettings,
    /**
     * registry: follow the promoted version (`--registry`, `model` unused) with the threshold stored with it;
     * topology: follow the network's topology on wsn.topology (default: `--no-topology`).
     */
    options: { alertmanager?: boolean; env?: Record<string, string>; registry?: boolean; topology?: boolean } = {},
  ): Promise<DetectorRun> {
    const port = await freePort();
    const args = [
      'detect',
      ...(options.registry ? ['--registry'] : ['--model', model]),
      '--group',
      `e2e-detector-${this.id}`,
      '--frames-topic',
      this.topics.frames,
      '--anomalies-topic',
      this.topics.anomalies,
      '--alerts-topic',
      this.topics.alerts,
      '--state-topic',
      this.topics.state,
      '--influx-database',
      this.database,
      '--http-port',
      String(port),
      '--replica-id',
      replica,
      ...(options.registry ? [] : ['--threshold', String(alerts.threshold)]),
      ...(options.topology ? [] : ['--no-topology']),
      ...(options.alertmanager === false ? ['--no-alertmanager'] : []),
    ];
    const run = this.cli(`detect-${replica}`, args, {
      WSN_NETWORK: this.network,
      WSN_ALERT_AFTER_TICKS: String(alerts.alertAfterTicks),
      WSN_RESOLVE_AFTER_TICKS: String(alerts.resolveAfterTicks),
      ...(alerts.resolveRatio === undefined ? {} : { WSN_RESOLVE_RATIO: String(alerts.resolveRatio) }),
      ...options.env,
    });
    await this.untilReady(`detector ${replica}`, run, port);
    return { ...run, port };
  }

  /**
   * `wsn-watch replay ibrl` of `dataDir` into the test's readings topic;
   * resolves with the number of readings it reports sent, once it exited with 0.
   */
  async replay(dataDir: string, args: string[]): Promise<number> {
    const run = this.cli('replay', ['replay', 'ibrl', '--data', dataDir, '--topic', this.topics.readings, ...args], {
      WSN_NETWORK: this.network,
    });
    const { code } = await run.exited;
    if (code !== 0) throw new Error(`replay exited with ${code}; see ${run.logFile}`);
    const sent = /sent (\d+) readings/.exec(run.stdout());
    if (!sent) throw new Error(`replay printed no count: ${run.stdout()}`);
    return Number(sent[1]);
  }

  /** Readings the ingest accepted and frames it published so far. */
  async ingestCounts(): Promise<{ accepted: number; rejected: number; frames: number }> {
    if (!this.ingest) throw new Error('ingest not started');
    const { metrics } = this.ingest;
    return {
      accepted: await countOf(metrics.accepted),
      rejected: await countOf(metrics.rejected),
      frames: await countOf(metrics.frames),
    };
  }

  /** Reads a whole topic from the beginning until `done(messages)` holds. */
  async readTopic(
    topic: string,
    done: (messages: IncomingMessage[]) => boolean,
    timeoutMs = 120_000,
  ): Promise<IncomingMessage[]> {
    const messages: IncomingMessage[] = [];
    const subscription = await this.transport.subscribe({
      groupId: `e2e-reader-${this.id}-${topic}`,
      topics: [topic],
      fromBeginning: true,
      onBatch: async (batch) => void messages.push(...batch.messages),
    });
    try {
      await waitFor(`messages on ${topic}`, () => done(messages), timeoutMs);
    } finally {
      await subscription.close();
    }
    return messages;
  }

  /**
   * The alert transitions on the alerts topic once at least `count` are there, read on for a few seconds
   * more so that an extra one would show.
   */
  async alertTransitions(count: number): Promise<Alert[]> {
    const readFrom = Date.now();
    const messages = await this.readTopic(
      this.topics.alerts,
      (list) => list.length >= count && Date.now() - readFrom > 5_000,
    );
    return messages.map((message) => JSON.parse(message.value.toString('utf8')) as Alert);
  }

  /** Rows of an InfluxQL query on the test's database ([] while the database does not exist yet). */
  async query<T>(influxql: string): Promise<T[]> {
    // A plain array: the client's result carries extra properties that would upset toEqual.
    return [...(await this.influx.query<T>(influxql).catch((): T[] => []))];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const run of this.children)
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await Promise.all(this.children.map((run) => run.exited));
    await this.ingest?.stop().catch(() => undefined);
    await this.transport.close().catch(() => undefined);
    await this.influx.dropDatabase().catch(() => undefined);
    await this.deleteTopics().catch(() => undefined);
    await new Promise((resolve) => this.log.end(resolve));
  }

  /**
   * Deletes every topic of this pipeline (named `e2e.<name>.<id>.*`): a broker
   * left with thousands of test partitions is slow to fence and unfence
   * itself, and the tests after this one pay for it.
   */
  private async deleteTopics(): Promise<void> {
    const prefix = `e2e.${this.name}.${this.id}.`;
    const admin = new Kafka({
      clientId: `e2e-cleanup-${this.id}`,
      brokers: this.config.kafka.brokers,
      ...kafkaSecurity(this.config.kafka),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    } finally {
      await admin.disconnect();
    }
  }
}

/** Alertmanager's active alerts carrying this network label (API v2). */
export function alertsOf(config: Config, network: string): Promise<AlertmanagerAlert[]> {
  return activeAlerts(config.alertmanager.url, { network });
}

/**
 * The anomaly measurement of an injected fault: `node` is flagged at the
 * injection's tick or within 2 ticks after it, and no node is flagged before
 * it. Returns the node's flagged rows and its first flagged tick.
 */
export async function expectFlaggedAfterInjection(
  pipeline: Pipeline,
  node: string,
  injectionTick: number,
): Promise<{ flagged: Array<{ time: Date; probability: number }>; firstFlag: number }> {
  const flagged = await pipeline.query<{ time: Date; probability: number }>(
    `SELECT probability, is_anomaly FROM anomaly WHERE node = '${node}' AND is_anomaly = true`,
  );
  expect(flagged.length).toBeGreaterThan(0);
  const firstFlag = Math.min(...flagged.map((row) => row.time.getTime()));
  expect(firstFlag).toBeGreaterThanOrEqual(injectionTick);
  expect(firstFlag).toBeLessThanOrEqual(injectionTick + 2 * TICK_MS);
  expect(
    await pipeline.query(`SELECT probability, node FROM anomaly WHERE is_anomaly = true AND time < ${injectionTick}ms`),
  ).toEqual([]);
  return { flagged, firstFlag };
}
