import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigSchema, type Config } from '../common/config.ts';
import type { Logger } from '../common/log.ts';
import type { Alert } from '../common/types.ts';
import { TOPICS } from '../common/types.ts';
import { serveDashboard, type DashboardServer } from '../dashboards/web/server.ts';
import { staticTopology } from '../dashboards/web/store.ts';
import { topologyView } from '../topology/view.ts';
import type { AlertRoute } from '../detector/alerts/route.ts';
import { ensureBackend, loadDetector, type Detector } from '../model/index.ts';
import { checkModel } from '../detector/service/model.ts';
import { DETECTOR_GROUP, startDetectorService, type DetectorService } from '../detector/service/service.ts';
import { TopologyAdjacency } from '../detector/service/topology.ts';
import { MemoryResultStore } from '../store/memory.ts';
import { TableCheckpointStore } from '../detector/state/store.ts';
import { MemoryCheckpointStore } from '../ingest/checkpoint.ts';
import { NodeDirectory } from '../ingest/directory.ts';
import { publishPaced } from '../sources/publish.ts';
import { startIngestService, type IngestService } from '../ingest/service.ts';
import { INGEST_GROUP } from '../ingest/topics.ts';
import { layoutFromTopology } from '../ingest/topology-source.ts';
import { MemoryTransport } from '../transport/index.ts';
import { DemoConsole, formatAlert, type ConsoleOutput } from './console.ts';
import { describeFault } from '../sources/demo-faults.ts';
import { withBackpressure } from './backpressure.ts';
import { describeThreshold, thresholdInForce } from '../detector/service/threshold.ts';
import { formatDemoFaultSummary, summarizeDemoFaults, type DemoFaultSummary } from './demo-summary.ts';
import { ibrlDataFound, ibrlSource, simulationSource, type DemoSource } from './sources.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Largest cluster in the demo: the map shows a few clusters even for the 54 IBRL motes. */
const DEMO_MAX_CLUSTER_SIZE = 16;

export interface DemoOptions {
  config: Config;
  /** IBRL folder (node.txt, readings/); the synthetic network when absent or not found. */
  dataDir?: string;
  /** Nodes of the synthetic network. */
  nodes: number;
  /** Event-time speed-up (600 = ten minutes of readings per second); Infinity = as fast as the detector goes. */
  speed: number;
  seed: number;
  /** Stop by itself after this many seconds (tests, CI); undefined = until a signal. */
  durationSeconds?: number;
  logger: Logger;
  out: ConsoleOutput;
  /** Progress and notes that are not part of the live view. */
  note: (text: string) => void;
}

export interface DemoSummary {
  reason: string;
  /** Seconds since the process started. */
  seconds: number;
  ticks: number;
  alertsFired: number;
  /** Seconds from the process start to the first alert line, if any. */
  firstAlertSeconds: number | null;
  /** The announced faults: detected, missed, not reached; other nodes that alerted. */
  faults: DemoFaultSummary;
}

/**
 * The embedded demo: the whole pipeline in one process, no external service.
 *
 *   source (IBRL replay or simulator, with faults) ──▶ wsn.readings ─┐
 *        in-process transport (same interface as Kafka)              │
 *   ingest service (validate, align, frames) ◀───────────────────────┘
 *        ──▶ wsn.frames ──▶ detector service (committed model)
 *        ──▶ MemoryResultStore ──▶ built-in dashboard; alerts also to the console
 *
 * Only the transport and the sinks differ from the distributed deployment.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  // Times are reported from the process start (what a user waits), module loading included.
  const started = performance.timeOrigin;
  const { config, logger } = options;
  const network = config.network;
  const tickMs = config.ingest.tickMs;
  const view = new DemoConsole(options.out);

  // The dashboard first: it answers (empty) while the model loads.
  const store = new MemoryResultStore();
  const source = await openSource(options, tickMs);
  const layout = layoutFromTopology(network, source.topology);
  const directory = new NodeDirectory(layout);
  const dashboard = await listen(store, source, config, logger);
  const publicUrl = config.dashboard.publicUrl === ConfigSchema.shape.dashboard.parse(undefined).publicUrl ? dashboard.url : config.dashboard.publicUrl;
  const runConfig: Config = { ...config, dashboard: { ...config.dashboard, publicUrl } };
  view.line(`wsn-watch demo: dashboard ${dashboard.url}`);
  view.line(`source: ${source.description}`);
  view.line(`network "${network}": ${directory.nodeCount} nodes in ${directory.clusters.length} clusters; tick ${tickMs / 1000} s; speed ${Number.isFinite(options.speed) ? `${options.speed}×` : 'max'}`);
  for (const fault of source.faults) view.line(describeFault(fault));

  const resources: Array<{ name: string; close: () => Promise<unknown> }> = [{ name: 'dashboard', close: () => dashboard.close() }];
  const closeAll = async (): Promise<void> => {
    for (const resource of resources.reverse()) {
      await resource.close().catch((error: unknown) => logger.error({ err: error, resource: resource.name }, 'error while stopping'));
    }
  };

  let model: Detector;
  try {
    model = await loadModel(runConfig, options.note);
  } catch (error) {
    await closeAll();
    throw error;
  }
  resources.push({ name: 'model', close: async () => model.dispose() });
  // Kept for the closing summary, which runs after the model is disposed.
  const modelView = { window: model.config.window, modalities: [...model.config.modalities] };
  view.line(`model: ${runConfig.detector.model} (modalities ${model.config.modalities.join(', ')}; window ${model.config.window} ticks; ${describeThreshold(thresholdInForce(runConfig.detector.threshold, undefined, { threshold: model.threshold, name: runConfig.detector.model }))})`);

  const transport = new MemoryTransport({ logger });
  resources.push({ name: 'transport', close: () => transport.close() });

  let alertsFired = 0;
  let firstAlertSeconds: number | null = null;
  /** Every transition, for the closing summary of faults. */
  const transitions: Alert[] = [];
  const consoleRoute: AlertRoute = {
    name: 'console',
    required: false,
    deliver: async (alerts: Alert[]) => {
      for (const alert of alerts) {
        transitions.push({ ...alert });
        if (alert.status === 'firing') {
          alertsFired++;
          firstAlertSeconds ??= (Date.now() - started) / 1000;
        }
        view.line(formatAlert(alert));
      }
    },
  };

  let stopWith: (reason: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stopWith = resolve;
  });

  let detector: DetectorService;
  let ingest: IngestService;
  try {
    const adjacency = new TopologyAdjacency();
    adjacency.update(source.topology, layout.version);
    detector = await startDetectorService({
      config: runConfig,
      transport,
      model,
      sink: store,
      checkpoints: new TableCheckpointStore(transport.table({ topic: TOPICS.detectorState, partitions: 1 }), logger),
      alertmanager: false,
      extraRoutes: [consoleRoute],
      adjacency: adjacency.provider,
      httpPort: null,
      replicaId: 'demo',
      logger,
      onFatal: (error) => stopWith(`detector error [${error.code}]: ${error.message}`),
    });
    resources.push({ name: 'detector', close: () => detector.stop() });
    ingest = await startIngestService({ config: runConfig, transport, directory, checkpoints: new MemoryCheckpointStore(), logger, http: false });
    resources.push({ name: 'ingest', close: () => ingest.stop() });
  } catch (error) {
    await closeAll();
    throw error;
  }

  // The source runs ahead of the pipeline by at most a few ticks: at a
  // speed the detector cannot follow, event time slows down to its pace
  // instead of piling readings up in memory (and alerts up behind them).
  const publishing = new AbortController();
  const producer = await transport.producer();
  const readings = withBackpressure(source.readings(publishing.signal), {
    signal: publishing.signal,
    backlog: () => backlogTicks(transport, directory),
    maxBacklogTicks: 6,
  });
  const publisher = publishPaced(readings, { producer, topic: TOPICS.readings, speed: options.speed, signal: publishing.signal })
    .then((result) => {
      if (!publishing.signal.aborted) view.line(`source: finished, ${result.sent} readings sent; the dashboard stays up until Ctrl-C`);
    })
    .catch((error: unknown) => stopWith(`source failed: ${(error as Error).message}`));

  // Live status.
  let newestTick: number | null = null;
  let lastSample = { at: Date.now(), tick: null as number | null };
  let ticksPerSecond = 0;
  let ticksScored = 0;
  const unsubscribe = store.subscribe((change) => {
    if (change.kind !== 'scores') return;
    if (newestTick === null || change.tick > newestTick) {
      if (newestTick !== null) ticksScored += Math.round((change.tick - newestTick) / tickMs);
      else ticksScored = 1;
      newestTick = change.tick;
    }
  });
  const refresh = async (): Promise<void> => {
    const now = Date.now();
    const elapsed = (now - lastSample.at) / 1000;
    if (elapsed > 0 && newestTick !== null) ticksPerSecond = lastSample.tick === null ? 0 : (newestTick - lastSample.tick) / tickMs / elapsed;
    lastSample = { at: now, tick: newestTick };
    const [nodes, alerts] = await Promise.all([store.latestNodes(network), store.alerts(network)]);
    view.status({
      ticksPerSecond,
      nodes: directory.nodeCount,
      clusters: directory.clusters.length,
      anomalousNodes: nodes.filter((point) => point.isAnomaly === true).length,
      alertsFiring: alerts.filter((alert) => alert.status === 'firing').length,
      eventTs: newestTick,
      dashboardUrl: dashboard.url,
    });
  };
  const statusTimer = setInterval(() => void refresh().catch((error: unknown) => logger.warn({ err: error }, 'status refresh failed')), 1_000);

  // Stop on Ctrl-C, SIGTERM or after --duration.
  const onSignal = (signal: NodeJS.Signals): void => stopWith(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const durationTimer = options.durationSeconds === undefined ? undefined : setTimeout(() => stopWith(`--duration ${options.durationSeconds} s reached`), options.durationSeconds * 1000);

  const reason = await stopped;
  clearInterval(statusTimer);
  if (durationTimer) clearTimeout(durationTimer);
  view.line(`demo: stopping (${reason}): finishing the batch in flight`);
  publishing.abort();
  await publisher;
  await producer.close();
  unsubscribe();
  await closeAll();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const clusterOf = new Map(directory.clusters.flatMap((cluster) => cluster.nodes.map((node) => [node, cluster.id] as const)));
  const faults = summarizeDemoFaults({
    faults: source.faults,
    alerts: transitions,
    newestTick,
    tickMs,
    graceTicks: modelView.window,
    modalities: modelView.modalities,
    clusterOf,
    nodes: directory.nodeCount,
  });
  const summary: DemoSummary = { reason, seconds: (Date.now() - started) / 1000, ticks: ticksScored, alertsFired, firstAlertSeconds, faults };
  view.line(
    `demo: stopped after ${summary.seconds.toFixed(1)} s: ${summary.ticks} ticks scored, ${summary.alertsFired} alert(s) fired` +
      (summary.firstAlertSeconds === null ? '' : `, the first ${summary.firstAlertSeconds.toFixed(1)} s after the process started`),
  );
  for (const line of formatDemoFaultSummary(faults)) view.line(line);
  return summary;
}

async function openSource(options: DemoOptions, tickMs: number): Promise<DemoSource> {
  const common = { network: options.config.network, tickMs, seed: options.seed, maxClusterSize: DEMO_MAX_CLUSTER_SIZE };
  if (options.dataDir !== undefined) {
    if (ibrlDataFound(options.dataDir)) {
      let badLines = 0;
      return ibrlSource(options.dataDir, {
        ...common,
        onBadLine: (message) => {
          // A few are expected in the recording; report the first ones only.
          if (++badLines <= 3) options.note(`source: ${message}`);
        },
      });
    }
    options.note(`source: no IBRL recording at ${options.dataDir} (node.txt and readings/ expected); running the synthetic network instead`);
  }
  return simulationSource({ ...common, nodes: options.nodes });
}

async function listen(store: MemoryResultStore, source: DemoSource, config: Config, logger: Logger): Promise<DashboardServer> {
  return serveDashboard({
    store,
    topology: staticTopology([topologyView(config.network, source.topology)]),
    host: config.dashboard.host,
    port: config.dashboard.port,
    threshold: config.detector.threshold,
    logger,
  });
}

/** The model directory as given (relative to the working directory), else relative to the repository. */
function resolveModelDir(dir: string): string {
  const fromCwd = path.resolve(dir);
  if (existsSync(fromCwd) || path.isAbsolute(dir)) return fromCwd;
  return path.resolve(REPO_ROOT, dir);
}

async function loadModel(config: Config, note: (text: string) => void): Promise<Detector> {
  const dir = resolveModelDir(config.detector.model);
  note(`demo: loading the model from ${config.detector.model}`);
  const backend = await ensureBackend(config.detector.backend);
  const model = await loadDetector(dir);
  checkModel(model, { modalities: config.detector.modalities, window: config.detector.window }, config.detector.model);
  note(`demo: model ready on the ${backend} backend`);
  return model;
}

/** How many ticks of readings and frames wait in the transport, whichever is further behind. */
function backlogTicks(transport: MemoryTransport, directory: NodeDirectory): number {
  const waiting = (topic: string, group: string): number => {
    const committed = transport.committedOffsets(group);
    return transport.endOffsets(topic).reduce((sum, end, partition) => sum + Math.max(0, end - (committed[`${topic}:${partition}`] ?? 0)), 0);
  };
  const readingTicks = waiting(TOPICS.readings, INGEST_GROUP) / Math.max(1, directory.nodeCount);
  const frameTicks = waiting(TOPICS.frames, DETECTOR_GROUP) / Math.max(1, directory.clusters.length);
  return Math.max(readingTicks, frameTicks);
}
