import { ConfigSchema, type Config } from '../common/config.ts';
import type { Logger } from '../common/log.ts';
import { resolveFromCwdOrRepo } from '../common/paths.ts';
import type { Alert } from '../common/types.ts';
import { TOPICS } from '../common/types.ts';
import { serveDashboard, type DashboardServer } from '../dashboards/web/server.ts';
import { staticTopology } from '../store/results.ts';
import { topologyView } from '../topology/view.ts';
import type { AlertRoute } from '../detector/alerts/route.ts';
import { ensureBackend, type Detector } from '../model/index.ts';
import { loadModelToServe } from '../detector/service/load-model.ts';
import { DETECTOR_GROUP, startDetectorService } from '../detector/service/service.ts';
import { TopologyAdjacency } from '../detector/service/topology.ts';
import { MemoryResultStore } from '../store/memory.ts';
import { TableCheckpointStore } from '../detector/state/store.ts';
import { MemoryCheckpointStore } from '../ingest/checkpoint.ts';
import { NodeDirectory } from '../ingest/directory.ts';
import { publishPaced } from '../sources/publish.ts';
import { startIngestService } from '../ingest/service.ts';
import { INGEST_GROUP } from '../ingest/topics.ts';
import { layoutFromTopology } from '../ingest/topology-source.ts';
import { MemoryTransport } from '../transport/index.ts';
import { DemoConsole, formatAlert, type ConsoleOutput } from './console.ts';
import { describeFault } from '../sources/demo-faults.ts';
import { withBackpressure } from './backpressure.ts';
import { describeThreshold, thresholdInForce } from '../detector/service/threshold.ts';
import { formatDemoFaultSummary, summarizeDemoFaults, type DemoFaultSummary } from './demo-summary.ts';
import { ibrlDataFound, ibrlSource, simulationSource, type DemoSource } from './sources.ts';
import { LiveStatus } from './demo-status.ts';
import { Resources } from './resources.ts';

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
  const tickMs = config.ingest.tickMs;
  const view = new DemoConsole(options.out);

  // The dashboard first: it answers (empty) while the model loads.
  const store = new MemoryResultStore();
  const source = await openSource(options, tickMs);
  const layout = layoutFromTopology(config.network, source.topology);
  const directory = new NodeDirectory(layout);
  const dashboard = await listen(store, source, config, logger);
  const runConfig = withPublicUrl(config, dashboard.url);
  announce(view, { dashboard, source, directory, config, speed: options.speed });

  const resources = new Resources(logger);
  resources.add('dashboard', () => dashboard.close());
  const model = await resources.orCloseAll(() => loadModel(runConfig, options.note));
  resources.add('model', async () => model.dispose());
  // Kept for the closing summary, which runs after the model is disposed.
  const modelView = { window: model.config.window, modalities: [...model.config.modalities] };
  view.line(
    `model: ${runConfig.detector.model} (modalities ${model.config.modalities.join(', ')}; window ${model.config.window} ticks; ${describeThreshold(thresholdInForce(runConfig.detector.threshold, undefined, { threshold: model.threshold, name: runConfig.detector.model }), model)})`,
  );

  const transport = new MemoryTransport({ logger });
  resources.add('transport', () => transport.close());
  const alerts = consoleAlerts(view, started);
  const stop = new DemoStop();
  await resources.orCloseAll(() =>
    startPipeline({
      config: runConfig,
      transport,
      model,
      store,
      source,
      layout,
      directory,
      alertRoute: alerts.route,
      stop,
      resources,
      logger,
    }),
  );

  const publishing = await startPublishing({ source, transport, directory, speed: options.speed, view, stop });
  const status = new LiveStatus({
    store,
    view,
    directory,
    network: config.network,
    tickMs,
    dashboardUrl: dashboard.url,
    logger,
  });
  stop.watch(options.durationSeconds);

  const reason = await stop.reason;
  status.stopRefreshing();
  stop.clearTimer();
  view.line(`demo: stopping (${reason}): finishing the batch in flight`);
  await publishing.stop();
  status.stopCounting();
  await resources.closeAll();
  stop.unwatchSignals();
  const faults = summarizeDemoFaults({
    faults: source.faults,
    alerts: alerts.transitions,
    newestTick: status.newestTick,
    tickMs,
    graceTicks: modelView.window,
    modalities: modelView.modalities,
    clusterOf: clusterOfNodes(directory),
    nodes: directory.nodeCount,
  });
  const summary: DemoSummary = {
    reason,
    seconds: (Date.now() - started) / 1000,
    ticks: status.ticksScored,
    alertsFired: alerts.fired,
    firstAlertSeconds: alerts.firstAlertSeconds,
    faults,
  };
  printSummary(view, summary);
  return summary;
}

/** Cluster of each node (the summary's localization looks at the faulty node's cluster). */
function clusterOfNodes(directory: NodeDirectory): Map<string, string> {
  return new Map(directory.clusters.flatMap((cluster) => cluster.nodes.map((node) => [node, cluster.id] as const)));
}

/** The configured public URL, or the dashboard's own address when the default was left. */
function withPublicUrl(config: Config, dashboardUrl: string): Config {
  const publicUrl =
    config.dashboard.publicUrl === ConfigSchema.shape.dashboard.parse(undefined).publicUrl
      ? dashboardUrl
      : config.dashboard.publicUrl;
  return { ...config, dashboard: { ...config.dashboard, publicUrl } };
}

function announce(
  view: DemoConsole,
  run: { dashboard: DashboardServer; source: DemoSource; directory: NodeDirectory; config: Config; speed: number },
): void {
  const { directory, config } = run;
  view.line(`wsn-watch demo: dashboard ${run.dashboard.url}`);
  view.line(`source: ${run.source.description}`);
  view.line(
    `network "${config.network}": ${directory.nodeCount} nodes in ${directory.clusters.length} clusters; tick ${config.ingest.tickMs / 1000} s; speed ${Number.isFinite(run.speed) ? `${run.speed}×` : 'max'}`,
  );
  for (const fault of run.source.faults) view.line(describeFault(fault));
}

function printSummary(view: DemoConsole, summary: DemoSummary): void {
  view.line(
    `demo: stopped after ${summary.seconds.toFixed(1)} s: ${summary.ticks} ticks scored, ${summary.alertsFired} alert(s) fired` +
      (summary.firstAlertSeconds === null
        ? ''
        : `, the first ${summary.firstAlertSeconds.toFixed(1)} s after the process started`),
  );
  for (const line of formatDemoFaultSummary(summary.faults)) view.line(line);
}

interface ConsoleAlerts {
  route: AlertRoute;
  fired: number;
  /** Seconds from the process start to the first alert line, if any. */
  firstAlertSeconds: number | null;
  /** Every transition, for the closing summary of faults. */
  transitions: Alert[];
}

/** The alert route that prints each transition on the console, counting what fired. */
function consoleAlerts(view: DemoConsole, started: number): ConsoleAlerts {
  const tally: ConsoleAlerts = {
    fired: 0,
    firstAlertSeconds: null,
    transitions: [],
    route: {
      name: 'console',
      required: false,
      deliver: async (alerts: Alert[]) => {
        for (const alert of alerts) {
          tally.transitions.push({ ...alert });
          if (alert.status === 'firing') {
            tally.fired++;
            tally.firstAlertSeconds ??= (Date.now() - started) / 1000;
          }
          view.line(formatAlert(alert));
        }
      },
    },
  };
  return tally;
}

/** Why the demo stops: the first of a detector or source failure, Ctrl-C or SIGTERM, and --duration. */
class DemoStop {
  readonly reason: Promise<string>;
  with: (reason: string) => void = () => undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void => this.with(signal);
  private durationTimer: NodeJS.Timeout | undefined;

  constructor() {
    this.reason = new Promise<string>((resolve) => {
      this.with = resolve;
    });
  }

  /** From here on, stop on Ctrl-C, SIGTERM or after `durationSeconds`. */
  watch(durationSeconds: number | undefined): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    if (durationSeconds !== undefined)
      this.durationTimer = setTimeout(
        () => this.with(`--duration ${durationSeconds} s reached`),
        durationSeconds * 1000,
      );
  }

  clearTimer(): void {
    if (this.durationTimer) clearTimeout(this.durationTimer);
  }

  unwatchSignals(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

interface PipelineOptions {
  config: Config;
  transport: MemoryTransport;
  model: Detector;
  store: MemoryResultStore;
  source: DemoSource;
  layout: ReturnType<typeof layoutFromTopology>;
  directory: NodeDirectory;
  alertRoute: AlertRoute;
  stop: DemoStop;
  resources: Resources;
  logger: Logger;
}

/** The detector, then ingest, on the in-process transport; each is added to `resources` once started. */
async function startPipeline(options: PipelineOptions): Promise<void> {
  const { config, transport, resources, logger } = options;
  const adjacency = new TopologyAdjacency();
  adjacency.update(options.source.topology, options.layout.version);
  const detector = await startDetectorService({
    // In one process a checkpoint is as volatile as the state itself, and the demo paces its source by the
    // committed offsets (backlogTicks): checkpoint and commit after every batch.
    config: { ...config, detector: { ...config.detector, checkpointIntervalMs: 0 } },
    transport,
    model: options.model,
    modelVersion: config.detector.model,
    sink: options.store,
    checkpoints: new TableCheckpointStore(transport.table({ topic: TOPICS.detectorState, partitions: 1 }), logger),
    alertmanager: false,
    extraRoutes: [options.alertRoute],
    adjacency: adjacency.provider,
    httpPort: null,
    replicaId: 'demo',
    logger,
    onFatal: (error) => options.stop.with(`detector error [${error.code}]: ${error.message}`),
  });
  resources.add('detector', () => detector.stop());
  const ingest = await startIngestService({
    config,
    transport,
    directory: options.directory,
    checkpoints: new MemoryCheckpointStore(),
    logger,
    http: false,
  });
  resources.add('ingest', () => ingest.stop());
}

/**
 * Publishes the source's readings at the demo's speed. The source runs ahead
 * of the pipeline by at most a few ticks: at a speed the detector cannot
 * follow, event time slows down to its pace instead of piling readings up in
 * memory (and alerts up behind them).
 */
async function startPublishing(run: {
  source: DemoSource;
  transport: MemoryTransport;
  directory: NodeDirectory;
  speed: number;
  view: DemoConsole;
  stop: DemoStop;
}): Promise<{ stop: () => Promise<void> }> {
  const { transport, directory } = run;
  const publishing = new AbortController();
  const producer = await transport.producer();
  const readings = withBackpressure(run.source.readings(publishing.signal), {
    signal: publishing.signal,
    backlog: () => backlogTicks(transport, directory),
    maxBacklogTicks: 6,
  });
  const publisher = publishPaced(readings, {
    producer,
    topic: TOPICS.readings,
    speed: run.speed,
    signal: publishing.signal,
  })
    .then((result) => {
      if (!publishing.signal.aborted)
        run.view.line(`source: finished, ${result.sent} readings sent; the dashboard stays up until Ctrl-C`);
    })
    .catch((error: unknown) => run.stop.with(`source failed: ${(error as Error).message}`));
  return {
    stop: async () => {
      publishing.abort();
      await publisher;
      await producer.close();
    },
  };
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
    options.note(
      `source: no IBRL recording at ${options.dataDir} (node.txt and readings/ expected); running the synthetic network instead`,
    );
  }
  return simulationSource({ ...common, nodes: options.nodes });
}

async function listen(
  store: MemoryResultStore,
  source: DemoSource,
  config: Config,
  logger: Logger,
): Promise<DashboardServer> {
  return serveDashboard({
    store,
    topology: staticTopology([topologyView(config.network, source.topology)]),
    host: config.dashboard.host,
    port: config.dashboard.port,
    threshold: config.detector.threshold,
    logger,
  });
}

async function loadModel(config: Config, note: (text: string) => void): Promise<Detector> {
  const dir = resolveFromCwdOrRepo(config.detector.model);
  note(`demo: loading the model from ${config.detector.model}`);
  const backend = await ensureBackend(config.detector.backend);
  const model = await loadModelToServe(dir, config.detector, config.detector.model);
  note(`demo: model ready on the ${backend} backend`);
  return model;
}

/** How many ticks of readings and frames wait in the transport, whichever is further behind. */
function backlogTicks(transport: MemoryTransport, directory: NodeDirectory): number {
  const waiting = (topic: string, group: string): number => {
    const committed = transport.committedOffsets(group);
    return transport
      .endOffsets(topic)
      .reduce((sum, end, partition) => sum + Math.max(0, end - (committed[`${topic}:${partition}`] ?? 0)), 0);
  };
  const readingTicks = waiting(TOPICS.readings, INGEST_GROUP) / Math.max(1, directory.nodeCount);
  const frameTicks = waiting(TOPICS.frames, DETECTOR_GROUP) / Math.max(1, directory.clusters.length);
  return Math.max(readingTicks, frameTicks);
}
