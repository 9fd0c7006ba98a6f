import { readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from './errors.ts';
import { describeZodIssues } from './zod-issues.ts';
import { DEFAULT_ALERT_THRESHOLD } from './thresholds.ts';
import { registerSecret } from './log.ts';
import { parseDuration } from './silences.ts';
import { HOUR_MS, DAY_MS } from './constants.ts';

export { DEFAULT_ALERT_THRESHOLD };

/** A whole number above zero (a count, a size in bytes, a duration in ms) read from text too; `fallback` when unset. */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * The one configuration of wsn-watch. Every service reads its section of it.
 *
 * Precedence (lowest to highest): built-in defaults < config file (JSON,
 * `--config FILE` or WSN_CONFIG) < environment variables (ENV_VARS below) <
 * command-line flags. docs/configuration.md documents every key.
 */
/** A duration as people write it (7d, 36h, 1h30m): validated here, turned into ms where it is used (parseDuration). */
const durationText = z.string().refine(
  (text) => {
    try {
      return parseDuration(text) > 0;
    } catch {
      return false;
    }
  },
  { message: 'must be a duration such as 30m, 36h, 7d or 1w' },
);

export const ConfigSchema = z.object({
  network: z.string().min(1).default('default'),
  stateDir: z.string().default('var'),
  kafka: z
    .object({
      brokers: z.array(z.string().min(1)).min(1).default(['127.0.0.1:9092']),
      clientId: z.string().default('wsn-watch'),
      // Kafka's broker accepts 6 s to 300 s by default (group.min/max.session.timeout.ms).
      sessionTimeoutMs: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
      /**
       * How long a stopping service keeps retrying the writes Kafka does not take (the detector's last checkpoints
       * and results), ms; then it gives them up and stops. What it gave up is replayed from the committed offsets.
       */
      stopTimeoutMs: z.coerce.number().int().min(0).default(30_000),
      // Authentication (issue 13): SASL over the broker connection, optionally inside TLS.
      sasl: z
        .object({
          mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
          username: z.string().min(1),
          password: z.string().min(1),
        })
        .optional(),
      /** TLS to the brokers: `true` trusts the system CAs; files (PEM) for a private CA and a client certificate. */
      ssl: z
        .union([
          z.boolean(),
          z.object({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() }).strict(),
        ])
        .optional(),
    })
    .default({ brokers: ['127.0.0.1:9092'], clientId: 'wsn-watch', sessionTimeoutMs: 30_000, stopTimeoutMs: 30_000 }),
  influx: z
    .object({
      url: z.string().url().default('http://127.0.0.1:8086'),
      database: z.string().min(1).default('wsn'),
      // Credentials (issue 13): kept out of the URL so they never show up where the URL is printed.
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      /** InfluxDB 1.8+/2.x token (`Authorization: Token …`), instead of username/password. */
      token: z.string().min(1).optional(),
    })
    .default({ url: 'http://127.0.0.1:8086', database: 'wsn' }),
  alertmanager: z
    .object({
      url: z.string().url().default('http://127.0.0.1:9093'),
    })
    .default({ url: 'http://127.0.0.1:9093' }),
  services: z
    .object({
      kafkaPort: z.coerce.number().int().min(1).max(65535).default(9092),
      kafkaControllerPort: z.coerce.number().int().min(1).max(65535).default(9094),
      influxPort: z.coerce.number().int().min(1).max(65535).default(8086),
      alertmanagerPort: z.coerce.number().int().min(1).max(65535).default(9093),
    })
    .default({ kafkaPort: 9092, kafkaControllerPort: 9094, influxPort: 8086, alertmanagerPort: 9093 }),
  ingest: z
    .object({
      tickMs: positiveInt(31_000),
      allowedLatenessMs: z.coerce.number().int().nonnegative().default(62_000),
      silenceMs: positiveInt(10 * 60_000),
      maxMessageBytes: positiveInt(64 * 1024),
      /** Port of the ingest service's /metrics, /healthz and /readyz (0 = any free port). */
      httpPort: z.coerce.number().int().min(0).max(65535).default(9464),
      /** Unit of line-protocol timestamps; `auto` infers it from the magnitude. */
      lineProtocolPrecision: z.enum(['auto', 'ns', 'us', 'ms', 's']).default('auto'),
      /** A readings partition that delivered nothing for this long stops holding the event-time watermark back. */
      partitionIdleMs: positiveInt(10_000),
      /** Longest stretch of event time emitted tick by tick when the watermark jumps; older ticks of a longer gap are skipped (logged and counted). */
      maxCatchUpMs: positiveInt(24 * 3600_000),
      /** How long Kafka may hold a fetch of readings for more to arrive (0: answer with whatever has come). */
      batchWaitMs: z.coerce.number().int().min(0).max(10_000).default(250),
      /** Where ingest keeps its aligner state: a local file (one process per group) or per partition on Kafka (several). */
      state: z.enum(['file', 'kafka']).default('file'),
      /** Compacted topic of the per-partition state (state = kafka). */
      stateTopic: z.string().min(1).default('wsn.ingest-state'),
    })
    .default({
      tickMs: 31_000,
      allowedLatenessMs: 62_000,
      silenceMs: 600_000,
      maxMessageBytes: 65_536,
      httpPort: 9464,
      lineProtocolPrecision: 'auto',
      partitionIdleMs: 10_000,
      maxCatchUpMs: 24 * 3600_000,
      batchWaitMs: 250,
      state: 'file',
      stateTopic: 'wsn.ingest-state',
    }),
  detector: z
    .object({
      model: z.string().default('models/default'),
      /** Alert threshold; unset = the threshold calibrated and stored with the model (DEFAULT_ALERT_THRESHOLD only for a model without one). */
      threshold: z.coerce.number().min(0).max(1).optional(),
      alertAfterTicks: positiveInt(2),
      /** Consecutive ticks clearly below the threshold (under threshold × resolveRatio) before an alert resolves. */
      resolveAfterTicks: positiveInt(10),
      /** The resolve level as a fraction of the threshold (hysteresis). */
      resolveRatio: z.coerce.number().min(0).max(1).default(0.5),
      /** A node above the threshold is not counted when a neighbour's evidence is stronger and its own is below this fraction of it; 0 = no suppression. */
      localizationRatio: z.coerce.number().min(0).max(1).default(0.5),
      backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
      /**
       * Threads native TensorFlow runs one operation of the detector service on (0 = one per core). One spends the
       * least CPU per node-tick: a busy network scales out with detector replicas, each on a core of its own.
       */
      modelThreads: z.coerce.number().int().min(0).default(1),
      /**
       * Clusters per native model call (unset: the model's own default). A call holds native memory per cluster
       * (about 6.6 MB per cluster of 64 nodes), and the process keeps its peak: fewer lower a detector's peak RSS.
       */
      modelClustersPerCall: z.coerce.number().int().min(1).optional(),
      /** Port of the detector service's /metrics, /healthz and /readyz (0 = any free port). */
      httpPort: z.coerce.number().int().min(0).max(65535).default(9465),
      /** Modalities the deployment expects the model to use, in order; unset = whatever the model was trained on. */
      modalities: z.array(z.string().min(1)).min(1).optional(),
      /** Window (ticks) the deployment expects the model to use; unset = the model's. */
      window: z.coerce.number().int().min(2).optional(),
      /** How often firing alerts are re-sent to Alertmanager so they do not expire, ms. */
      alertResendMs: positiveInt(60_000),
      /**
       * How long the clusters of a frames partition may wait for their checkpoint, ms (0 = after every batch). The
       * partition's offset is committed with it; a restart replays the frames since (detector/service/checkpoint-cadence.ts).
       */
      checkpointIntervalMs: z.coerce.number().int().min(0).default(300_000),
      /**
       * Most frames scored and delivered as one run (detector/service/batch.ts). A run holds a rollback copy of each
       * cluster it touches and its frames' points until its sink write, and a tick's close on a large network hands over
       * the frames of every cluster at once (1,996 at 100,000 nodes). 512 still fill 16 model calls of 32 clusters.
       */
      maxFramesPerRun: positiveInt(512),
      /**
       * How long a hand-over whose newest tick lacks the frame of a cluster scored at the tick before waits for it, ms,
       * from the first hand-over of that tick (0 = never waits; detector/service/tick-gather.ts).
       */
      gatherMs: z.coerce.number().int().min(0).max(10_000).default(1_500),
      /** How long (event time) a `topology` alert naming a node added, moved or removed fires before it resolves, ms. */
      topologyAlertMs: positiveInt(HOUR_MS),
      /** Stuck-at faults beside the model: a reading repeating far longer than it usually does (detector/alerts/stuck.ts). */
      stuck: z
        .object({
          enabled: z.boolean().default(true),
          /** The repeat must outlast this multiple of the reading's usual run of equal values… */
          multiple: z.coerce.number().min(1).default(10),
          /** …and this many readings; unset = the model's window. */
          minRepeats: z.coerce.number().int().min(2).optional(),
          neighbourShare: z.coerce.number().min(0).max(1).default(0.5),
        })
        .default({ enabled: true, multiple: 10, neighbourShare: 0.5 }),
      /** Sudden jumps of one reading beside the model: far off its own recent level and its neighbours' at once (detector/alerts/jumps.ts). */
      jumps: z
        .object({
          enabled: z.boolean().default(true),
          /** The jump must exceed this multiple of the reading's usual jump, against itself and its neighbours. */
          multiple: z.coerce.number().min(1).default(10),
          /** A neighbour jumping within this many ticks makes it the environment's. */
          quietTicks: z.coerce.number().int().min(0).default(3),
        })
        .default({ enabled: true, multiple: 10, quietTicks: 3 }),
    })
    .default({
      model: 'models/default',
      alertAfterTicks: 2,
      resolveAfterTicks: 10,
      resolveRatio: 0.5,
      localizationRatio: 0.5,
      backend: 'auto',
      modelThreads: 1,
      httpPort: 9465,
      alertResendMs: 60_000,
      checkpointIntervalMs: 300_000,
      maxFramesPerRun: 512,
      gatherMs: 1_500,
      topologyAlertMs: HOUR_MS,
      stuck: { enabled: true, multiple: 10, neighbourShare: 0.5 },
      jumps: { enabled: true, multiple: 10, quietTicks: 3 },
    }),
  dashboard: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: z.coerce.number().int().min(0).max(65535).default(8080),
      publicUrl: z.string().default('http://127.0.0.1:8080'),
    })
    .default({ host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080' }),
  webhooks: z.array(z.object({ url: z.string().url(), secret: z.string().optional() })).default([]),
  /** Maintenance silences (common/silences.ts): where they are kept and how fast detectors follow them. */
  silences: z
    .object({
      topic: z.string().min(1).default('wsn.silences'),
      refreshMs: z.coerce.number().int().min(100).default(2_000),
    })
    .default({ topic: 'wsn.silences', refreshMs: 2_000 }),
  /** The model registry (docs/operations.md#model-versions): versions on disk, the promoted one per network on a compacted topic. */
  registry: z
    .object({
      /** Folder of the registered versions; empty = `<stateDir>/models`. Every detector that follows the registry must see it. */
      dir: z.string().default(''),
      topic: z.string().min(1).default('wsn.models'),
      refreshMs: z.coerce.number().int().min(100).default(2_000),
      /** Detect with the network's promoted version and swap to each new one without a restart (`detect --registry`). */
      follow: z.boolean().default(false),
      /** Ticks a new version runs beside the old one before it takes over; 0 = the model's own (max of window and context warm-up). */
      warmupTicks: z.coerce.number().int().min(0).default(0),
    })
    .default({ dir: '', topic: 'wsn.models', refreshMs: 2_000, follow: false, warmupTicks: 0 }),
  /** Operator feedback on alerts (common/feedback.ts): where it is kept and how a false alarm raises a node's threshold. */
  feedback: z
    .object({
      topic: z.string().min(1).default('wsn.feedback'),
      refreshMs: z.coerce.number().int().min(100).default(2_000),
      /** A false alarm raises its node's threshold to its peak probability plus this. */
      margin: z.coerce.number().min(0).max(1).default(0.02),
      /** No raise goes above this (a fault stronger than any false alarm still alerts). */
      maxThreshold: z.coerce.number().min(0).max(1).default(0.99),
      /** How long a raise lasts after the mark, ms (default 14 days). */
      expireAfterMs: positiveInt(14 * DAY_MS),
      /** Bearer token of the dashboard's feedback endpoint; unset = the endpoint is off. */
      token: z.string().min(16).optional(),
    })
    .default({
      topic: 'wsn.feedback',
      refreshMs: 2_000,
      margin: 0.02,
      maxThreshold: 0.99,
      expireAfterMs: 14 * DAY_MS,
    }),
  /** Scheduled retraining (`wsn-watch retrain --every`, docs/operations.md#scheduled-retraining): durations such as 7d, 36h. */
  retrain: z
    .object({
      every: durationText.default('7d'),
      shadowFor: durationText.default('1d'),
      autoPromote: z.boolean().default(false),
    })
    .default({ every: '7d', shadowFor: '1d', autoPromote: false }),
  // --- Reliability and security (issue 13): validation limits, credentials, bind addresses. ---
  validation: z
    .object({
      /** Readings more than this many ticks ahead of the ingest machine's clock are rejected as `future`. */
      maxFutureTicks: z.coerce.number().int().min(0).default(3),
      /** Plausible range per modality, laid over the built-in ones (ingest/plausibility.ts). */
      plausibility: z
        .record(
          z.string().min(1),
          z
            .object({ min: z.number(), max: z.number() })
            .refine((r) => r.min <= r.max, { message: 'min must not exceed max' }),
        )
        .default({}),
    })
    .default({ maxFutureTicks: 3, plausibility: {} }),
  ops: z
    .object({
      /** Address the ingest and detector /metrics, /healthz, /readyz servers bind (0.0.0.0 for a scraper in another container). */
      host: z.string().min(1).default('127.0.0.1'),
    })
    .default({ host: '127.0.0.1' }),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Environment variable → dotted config key. The only env names the code reads. */
export const ENV_VARS: Record<string, string> = {
  WSN_NETWORK: 'network',
  WSN_STATE_DIR: 'stateDir',
  WSN_KAFKA_BROKERS: 'kafka.brokers',
  WSN_KAFKA_CLIENT_ID: 'kafka.clientId',
  WSN_KAFKA_SESSION_TIMEOUT_MS: 'kafka.sessionTimeoutMs',
  WSN_KAFKA_STOP_TIMEOUT_MS: 'kafka.stopTimeoutMs',
  WSN_KAFKA_SASL_MECHANISM: 'kafka.sasl.mechanism',
  WSN_KAFKA_SASL_USERNAME: 'kafka.sasl.username',
  WSN_KAFKA_SASL_PASSWORD: 'kafka.sasl.password',
  // WSN_KAFKA_SSL before the file variables: a file given turns kafka.ssl into the object form.
  WSN_KAFKA_SSL: 'kafka.ssl',
  WSN_KAFKA_SSL_CA: 'kafka.ssl.ca',
  WSN_KAFKA_SSL_CERT: 'kafka.ssl.cert',
  WSN_KAFKA_SSL_KEY: 'kafka.ssl.key',
  WSN_INFLUX_URL: 'influx.url',
  WSN_INFLUX_DATABASE: 'influx.database',
  WSN_INFLUX_USERNAME: 'influx.username',
  WSN_INFLUX_PASSWORD: 'influx.password',
  WSN_INFLUX_TOKEN: 'influx.token',
  WSN_ALERTMANAGER_URL: 'alertmanager.url',
  WSN_KAFKA_PORT: 'services.kafkaPort',
  WSN_KAFKA_CONTROLLER_PORT: 'services.kafkaControllerPort',
  WSN_INFLUX_PORT: 'services.influxPort',
  WSN_ALERTMANAGER_PORT: 'services.alertmanagerPort',
  WSN_TICK_MS: 'ingest.tickMs',
  WSN_ALLOWED_LATENESS_MS: 'ingest.allowedLatenessMs',
  WSN_SILENCE_MS: 'ingest.silenceMs',
  WSN_MAX_MESSAGE_BYTES: 'ingest.maxMessageBytes',
  WSN_INGEST_HTTP_PORT: 'ingest.httpPort',
  WSN_LINE_PROTOCOL_PRECISION: 'ingest.lineProtocolPrecision',
  WSN_PARTITION_IDLE_MS: 'ingest.partitionIdleMs',
  WSN_MAX_CATCH_UP_MS: 'ingest.maxCatchUpMs',
  WSN_INGEST_BATCH_WAIT_MS: 'ingest.batchWaitMs',
  WSN_INGEST_STATE: 'ingest.state',
  WSN_INGEST_STATE_TOPIC: 'ingest.stateTopic',
  WSN_MODEL: 'detector.model',
  WSN_THRESHOLD: 'detector.threshold',
  WSN_ALERT_AFTER_TICKS: 'detector.alertAfterTicks',
  WSN_RESOLVE_AFTER_TICKS: 'detector.resolveAfterTicks',
  WSN_RESOLVE_RATIO: 'detector.resolveRatio',
  WSN_LOCALIZATION_RATIO: 'detector.localizationRatio',
  WSN_BACKEND: 'detector.backend',
  WSN_MODEL_THREADS: 'detector.modelThreads',
  WSN_MODEL_CLUSTERS_PER_CALL: 'detector.modelClustersPerCall',
  WSN_DETECTOR_HTTP_PORT: 'detector.httpPort',
  WSN_DETECTOR_MODALITIES: 'detector.modalities',
  WSN_DETECTOR_WINDOW: 'detector.window',
  WSN_ALERT_RESEND_MS: 'detector.alertResendMs',
  WSN_TOPOLOGY_ALERT_MS: 'detector.topologyAlertMs',
  WSN_CHECKPOINT_INTERVAL_MS: 'detector.checkpointIntervalMs',
  WSN_MAX_FRAMES_PER_RUN: 'detector.maxFramesPerRun',
  WSN_GATHER_MS: 'detector.gatherMs',
  WSN_STUCK: 'detector.stuck.enabled',
  WSN_STUCK_MULTIPLE: 'detector.stuck.multiple',
  WSN_STUCK_MIN_REPEATS: 'detector.stuck.minRepeats',
  WSN_JUMPS: 'detector.jumps.enabled',
  WSN_JUMPS_MULTIPLE: 'detector.jumps.multiple',
  WSN_SILENCES_TOPIC: 'silences.topic',
  WSN_SILENCES_REFRESH_MS: 'silences.refreshMs',
  WSN_REGISTRY_DIR: 'registry.dir',
  WSN_MODELS_TOPIC: 'registry.topic',
  WSN_REGISTRY_FOLLOW: 'registry.follow',
  WSN_MODEL_WARMUP_TICKS: 'registry.warmupTicks',
  WSN_RETRAIN_EVERY: 'retrain.every',
  WSN_RETRAIN_SHADOW_FOR: 'retrain.shadowFor',
  WSN_RETRAIN_AUTO_PROMOTE: 'retrain.autoPromote',
  WSN_FEEDBACK_TOPIC: 'feedback.topic',
  WSN_FEEDBACK_REFRESH_MS: 'feedback.refreshMs',
  WSN_FEEDBACK_MARGIN: 'feedback.margin',
  WSN_FEEDBACK_MAX_THRESHOLD: 'feedback.maxThreshold',
  WSN_FEEDBACK_EXPIRE_AFTER_MS: 'feedback.expireAfterMs',
  WSN_FEEDBACK_TOKEN: 'feedback.token',
  WSN_DASHBOARD_HOST: 'dashboard.host',
  WSN_DASHBOARD_PORT: 'dashboard.port',
  WSN_PUBLIC_URL: 'dashboard.publicUrl',
  WSN_MAX_FUTURE_TICKS: 'validation.maxFutureTicks',
  WSN_OPS_HOST: 'ops.host',
};

/** Keys whose env value is a comma-separated list. */
const LIST_KEYS = new Set(['kafka.brokers', 'detector.modalities']);
/** Keys whose env value is `true` or `false` (zod would not coerce a union with an object). */
const BOOLEAN_KEYS = new Set([
  'kafka.ssl',
  'registry.follow',
  'retrain.autoPromote',
  'detector.stuck.enabled',
  'detector.jumps.enabled',
]);

type Tree = { [key: string]: unknown };

function setPath(target: Tree, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]] = value;
}

const isObject = (value: unknown): value is Tree =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    // `true` over an object (kafka.ssl: TLS on, over TLS on with these files) keeps the files.
    if (value === true && isObject(prev)) continue;
    out[key] = isObject(value) && isObject(prev) ? merge(prev, value) : value;
  }
  return out;
}

export interface LoadConfigOptions {
  /** Path of a JSON config file; defaults to $WSN_CONFIG when set. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag overrides as dotted keys, e.g. { 'kafka.brokers': ['h:9092'] }. */
  flags?: Record<string, unknown>;
}

function readConfigFile(file: string): Tree {
  if (!existsSync(file)) {
    throw new UserError(
      'CONFIG_NOT_FOUND',
      `config file ${file} does not exist`,
      'pass an existing JSON file to --config or WSN_CONFIG',
    );
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Tree;
  } catch (error) {
    throw new UserError(
      'CONFIG_INVALID',
      `config file ${file} is not valid JSON: ${(error as Error).message}`,
      'fix the JSON syntax',
    );
  }
}

function getPath(tree: Tree, dotted: string): unknown {
  let node: unknown = tree;
  for (const part of dotted.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Tree)[part];
  }
  return node;
}

/** Where a key's value came from (the highest-precedence layer that sets it). */
export type ConfigOrigin =
  { kind: 'flag' } | { kind: 'environment'; name: string } | { kind: 'file'; file: string } | { kind: 'default' };

/**
 * Which layer set a key, with the same options given to loadConfig: lets a
 * command say e.g. "threshold 0.3 (from WSN_THRESHOLD)" rather than only the value.
 */
export function configOrigin(key: string, options: LoadConfigOptions = {}): ConfigOrigin {
  const env = options.env ?? process.env;
  if (options.flags?.[key] !== undefined) return { kind: 'flag' };
  for (const [name, envKey] of Object.entries(ENV_VARS)) {
    if (envKey === key && env[name] !== undefined && env[name] !== '') return { kind: 'environment', name };
  }
  const file = options.file ?? env.WSN_CONFIG;
  if (file && getPath(readConfigFile(file), key) !== undefined) return { kind: 'file', file };
  return { kind: 'default' };
}

/** One environment value as the config key takes it: a list, a boolean or the string. */
function envValue(name: string, key: string, raw: string): unknown {
  if (LIST_KEYS.has(key))
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (!BOOLEAN_KEYS.has(key)) return raw;
  if (/^true$/i.test(raw)) return true;
  if (/^false$/i.test(raw)) return false;
  throw new UserError('CONFIG_INVALID', `${name}=${raw} is not a boolean (${key})`, `set ${name} to true or false`);
}

/** The configuration tree the WSN_* variables of `env` describe. */
function environmentLayer(env: NodeJS.ProcessEnv): Tree {
  const tree: Tree = {};
  for (const [name, key] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = envValue(name, key, raw);
    // A TLS file under WSN_KAFKA_SSL=false would be silently dropped: say so instead.
    if (key.startsWith('kafka.ssl.') && getPath(tree, 'kafka.ssl') === false) {
      throw new UserError(
        'CONFIG_INVALID',
        `${name} is set but WSN_KAFKA_SSL=false turns TLS off`,
        `unset ${name} or WSN_KAFKA_SSL`,
      );
    }
    setPath(tree, key, value);
  }
  return tree;
}

/** Builds the configuration: defaults < file < environment < flags. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.WSN_CONFIG;
  const tree = file ? readConfigFile(file) : {};
  const fromEnv = environmentLayer(env);
  const fromFlags: Tree = {};
  for (const [key, value] of Object.entries(options.flags ?? {})) {
    if (value !== undefined) setPath(fromFlags, key, value);
  }
  const merged = merge(merge(tree, fromEnv), fromFlags);
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new UserError(
      'CONFIG_INVALID',
      `invalid configuration: ${describeZodIssues(parsed.error)}`,
      'see docs/configuration.md for every key, its type and default',
    );
  }
  registerConfigSecrets(parsed.data);
  return parsed.data;
}

/** Tells the logger every secret of the configuration, so no log line shows one (common/log.ts). */
function registerConfigSecrets(config: Config): void {
  registerSecret(config.kafka.sasl?.password);
  registerSecret(config.influx.password);
  registerSecret(config.influx.token);
  registerSecret(config.feedback.token);
  registerSecret(new URL(config.influx.url).password);
  for (const webhook of config.webhooks) {
    registerSecret(webhook.secret);
    const url = new URL(webhook.url);
    registerSecret(url.password);
    // A webhook URL's path and query are often its secret (Slack-style receivers).
    if (url.pathname.length > 1) registerSecret(url.pathname + url.search);
    if (url.search.length > 1) registerSecret(url.search.slice(1));
  }
}
