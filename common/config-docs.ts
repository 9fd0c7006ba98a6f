import { z } from 'zod';
import { ConfigSchema, ENV_VARS } from './config.ts';

/**
 * One sentence per configuration key. docs/configuration.md is generated from
 * this and the schema (`node --import tsx scripts/config-doc.ts`), and a test
 * fails when a key has no description or the page is out of date.
 */
export const CONFIG_DESCRIPTIONS: Record<string, string> = {
  network: 'Name of the sensor network; tags every point and alert.',
  stateDir: 'Folder for local state: services, checkpoints, caches (relative to the working directory).',
  'kafka.brokers': 'Kafka bootstrap brokers (host:port list; comma-separated in the environment).',
  'kafka.clientId': 'Kafka client id prefix of every wsn-watch client.',
  'kafka.sessionTimeoutMs':
    'Consumer group session timeout: how long the group waits for a consumer that stopped without leaving (crash, SIGKILL) before its partitions go to another replica or a restarted one. Lower means faster failover and more spurious rebalances under load.',
  'kafka.stopTimeoutMs':
    'How long a stopping ingest or detector keeps retrying the writes Kafka does not take (its last checkpoints, frames and results) before it gives them up and stops; the next start replays them from the committed offsets. Bounds a stop during a broker outage or after a topic was deleted.',
  'kafka.sasl.mechanism':
    'SASL mechanism of the broker connection: plain, scram-sha-256 or scram-sha-512 (unset: no SASL).',
  'kafka.sasl.username': 'SASL user name.',
  'kafka.sasl.password': 'SASL password; never logged.',
  'kafka.ssl':
    'TLS to the brokers: true (system CAs), or {"ca": FILE, "cert": FILE, "key": FILE} with PEM files for a private CA and a client certificate. In the environment: WSN_KAFKA_SSL=true, or the file variables below (any of them turns TLS on).',
  'kafka.ssl.ca': 'PEM file of the CA that signed the brokers’ certificates (instead of the system CAs).',
  'kafka.ssl.cert': 'PEM file of the client certificate, for brokers that require one (with kafka.ssl.key).',
  'kafka.ssl.key': 'PEM file of the client certificate’s private key.',
  'influx.url': 'InfluxDB 1.x HTTP address the sinks and dashboards use.',
  'influx.database': 'InfluxDB database of readings, anomalies, system and pipeline points.',
  'influx.username': 'InfluxDB user (with influx.password); kept out of influx.url so logs and messages never show it.',
  'influx.password': 'InfluxDB password; never logged.',
  'influx.token': 'InfluxDB token, sent as `Authorization: Token …` (instead of username and password); never logged.',
  'alertmanager.url': 'Prometheus Alertmanager address alerts are posted to (API v2).',
  'services.kafkaPort': 'Port of the local Kafka broker that `wsn-watch services up` starts.',
  'services.kafkaControllerPort': 'Port of the local Kafka KRaft controller.',
  'services.influxPort': 'Port of the local InfluxDB.',
  'services.alertmanagerPort': 'Port of the local Alertmanager.',
  'ingest.tickMs': 'Tick length in ms: readings are aligned on ticks of event time (31 s is the IBRL sampling).',
  'ingest.allowedLatenessMs':
    'How late (event time) a reading may arrive and still count; the watermark trails the newest reading by this much.',
  'ingest.silenceMs': 'A node without readings for this long is flagged silent.',
  'ingest.maxMessageBytes': 'Messages larger than this are rejected to the DLQ.',
  'ingest.httpPort': 'Port of the ingest service’s /metrics, /healthz and /readyz (0 = any free port).',
  'ingest.lineProtocolPrecision':
    'Timestamp precision of InfluxDB line protocol readings; auto guesses from the magnitude.',
  'ingest.partitionIdleMs': 'A readings partition silent this long no longer holds the watermark back.',
  'ingest.maxCatchUpMs':
    'When the watermark jumps over a stretch of event time without any reading (the stream stopped, then resumed) longer than this, its older empty ticks are skipped, each skip logged and counted in wsn_ingest_skipped_ticks_total; ticks that hold readings are never skipped. Measured in time, so it means the same whatever ingest.tickMs.',
  'ingest.batchWaitMs':
    'How long Kafka may hold a fetch of readings for more to arrive, so that a live stream comes in batches of about this much time instead of a few readings each: every batch costs an offset commit and a checkpoint journal line. Adds at most this much to the time from reading to frame; 0 answers every fetch with whatever has come (a commit per handful of readings).',
  'ingest.state':
    'Where ingest keeps its aligner state. file: a local snapshot and journal, one ingest process per consumer group. kafka: one state per readings partition on ingest.stateTopic, for several ingest processes in one group (readings keyed by cluster; see docs/ingest.md).',
  'ingest.stateTopic': 'Compacted topic of the per-partition ingest state (ingest.state = kafka).',
  'detector.model': 'Folder of the trained model (`wsn-watch train --out`).',
  'detector.threshold':
    'Node anomaly probability above which a tick counts as anomalous for alerting. Unset (the default): the threshold calibrated and stored with the model; `detect` and `demo` print which one is in force and where it came from.',
  'detector.alertAfterTicks': 'Consecutive anomalous ticks before a node alert fires.',
  'detector.resolveAfterTicks':
    'Consecutive ticks clearly below the threshold (under threshold × resolveRatio) before an alert resolves; dips shorter than this keep a persistent fault’s alert firing.',
  'detector.resolveRatio':
    'The resolve level as a fraction of the threshold (hysteresis): a tick between it and the threshold keeps an alert firing.',
  'detector.localizationRatio':
    'Localization: a node above the threshold does not count a tick when a graph neighbour has a higher probability and the node’s own evidence (log-odds margin and reconstruction error) is below this fraction of the neighbour’s; 0 turns it off (docs/alerts.md).',
  'detector.backend':
    'TensorFlow.js backend: auto (native when it loads, else WASM, else pure JS), tensorflow, wasm or cpu.',
  'detector.modelThreads':
    'Threads native TensorFlow runs one operation of the detector service on; 0 = one per core. One spends the least CPU per node-tick (docs/benchmarks.md); scale a busy network out with detector replicas. TF_NUM_INTRAOP_THREADS in the environment wins; training and backtests keep TensorFlow’s own choice.',
  'detector.modelClustersPerCall':
    'Clusters scored per native model call; unset = the model’s default (32). A call holds native memory per cluster (about 6.6 MB per cluster of 64 nodes) and the process keeps its peak, so fewer lower the detector’s peak RSS (docs/benchmarks.md).',
  'detector.httpPort': 'Port of the detector service’s /metrics, /healthz and /readyz (0 = any free port).',
  'detector.modalities': 'Modalities the frames must carry; the service refuses a model trained on others.',
  'detector.window': 'Window length the model must have been trained with.',
  'detector.alertResendMs': 'How often a firing alert is re-sent to Alertmanager so it does not expire.',
  'detector.topologyAlertMs':
    'How long (event time) an informational `topology` alert naming a node added, moved or removed fires before it resolves by itself, ms.',
  'detector.checkpointIntervalMs':
    "How long the clusters of a frames partition may wait for their checkpoint, ms; the partition's offset is committed with it and a restart or rebalance replays the frames since (0 = after every batch).",
  'detector.maxFramesPerRun':
    'Most frames scored and delivered as one run. The partitions handed over together are split into runs of this many frames, and a run is scored while the one before is delivered: a run holds a rollback copy of every cluster it touches and its frames’ points until its sink write, so smaller runs hold less memory at once (two runs at a time); 512 still fill the model calls (32 clusters each).',
  'detector.gatherMs':
    "How long a hand-over waits for the rest of a tick, ms. At a tick's close ingest publishes every cluster's frame within about a second (at 100,000 nodes) and the consumer hands the first over at once; the frames that come meanwhile would wait for that whole hand-over. A hand-over whose newest tick lacks the frame of a cluster this replica scored at the tick before waits in steps of 250 ms while each look brings more of them, at most this long from the tick's first hand-over; a tick whose frames all came goes on at once, and so does a batch that stopped short of its partition's end (a backlog). 0 never waits.",
  'detector.stuck.enabled':
    'Alert on stuck-at faults beside the model: a node’s reading that repeats one value far longer than that node’s reading of that modality usually does, while its neighbours’ keep changing (docs/alerts.md#stuck-readings).',
  'detector.stuck.multiple':
    'A reading is stuck when its current run of equal values is longer than this multiple of its usual run (the 99th percentile of its past runs, learnt on the stream).',
  'detector.stuck.minRepeats': '…and longer than this many readings; unset = the model’s window.',
  'detector.stuck.neighbourShare':
    'Share of the node’s neighbours whose reading of the modality must have changed in the later half of the run (a whole network repeating is not one node’s fault).',
  'detector.jumps.enabled':
    'Alert at once on a sudden jump beside the model: one reading far off its node’s own recent level and its neighbours’, while no neighbour jumps with it (docs/alerts.md#sudden-jumps).',
  'detector.jumps.multiple':
    'A jump is sudden when it exceeds this multiple of the reading’s usual jump (the 99th percentile, learnt on the stream), against itself and against its neighbours.',
  'detector.jumps.quietTicks':
    'A neighbour whose reading jumped by a third of that within this many ticks makes the jump the environment’s, not one node’s fault.',
  'dashboard.host': 'Address the built-in dashboard binds to (loopback unless you open it on purpose).',
  'dashboard.port': 'Port of the built-in dashboard (0 = any free port).',
  'dashboard.publicUrl': 'Base URL alert links point to.',
  webhooks: 'Webhook receivers of alerts: [{"url": "...", "secret": "..."}]; a secret signs the body with HMAC-SHA256.',
  'silences.topic':
    'Compacted Kafka topic of the maintenance silences (`wsn-watch silence add|list|expire`); every detector replica follows it.',
  'silences.refreshMs':
    'How often a detector re-reads the silences topic, so an added or expired silence takes effect within this.',
  'retrain.every':
    'How often `wsn-watch retrain --every` (without the flag) retrains on the period just ended, registers the candidate and starts its shadow, e.g. 7d.',
  'retrain.shadowFor':
    'How long the scheduled candidate is shadow-scored before it is compared with the live model, e.g. 1d.',
  'retrain.autoPromote':
    'Whether the schedule promotes a candidate whose comparison passes the promotion gate; false: it logs the comparison and leaves the promotion to you.',
  'registry.dir':
    'Folder of the model registry (`wsn-watch model list|show|promote|rollback`); empty: `<stateDir>/models`. Every detector that follows the registry must see the same folder.',
  'registry.topic':
    'Compacted Kafka topic of the promoted model version per network; every detector that follows the registry reads it.',
  'registry.refreshMs':
    'How often a detector that follows the registry re-reads the promoted version, so a promotion or rollback takes effect within this.',
  'registry.follow':
    'Detect with the network’s promoted version from the registry and swap to every newly promoted one without a restart (`detect --registry`); false: the folder detector.model.',
  'registry.warmupTicks':
    'Ticks a newly promoted version runs beside the old one (its windows, GRU and context state warming up) before it takes over; 0: the larger of its window and its context warm-up.',
  'feedback.topic':
    'Compacted Kafka topic of the operator feedback on alerts (`wsn-watch feedback mark|list`, the dashboard buttons), key = alert id; every detector replica follows it.',
  'feedback.refreshMs': 'How often a detector re-reads the feedback topic, so a mark takes effect within this.',
  'feedback.margin': 'A false alarm raises its node’s threshold to the alert’s peak probability plus this.',
  'feedback.maxThreshold':
    'Upper bound of a raised threshold: a fault stronger than this still alerts on a marked node.',
  'feedback.expireAfterMs': 'How long a false alarm’s threshold raise lasts after the mark (default 14 days).',
  'feedback.token':
    'Bearer token of the dashboard’s feedback endpoint (POST /api/feedback), at least 16 characters; unset = the endpoint and the buttons are off. Never logged.',
  'ops.host':
    'Address the ingest and detector /metrics, /healthz and /readyz servers bind; loopback by default, 0.0.0.0 lets a Prometheus in another container scrape them.',
  'validation.maxFutureTicks':
    'Readings more than this many ticks ahead of the ingest machine’s clock are rejected to the DLQ as `future` (a wrong sender clock would stall the watermark).',
  'validation.plausibility':
    'Plausible range per modality, {"temperature": {"min": -90, "max": 150}, ...}, laid over the built-in ranges of temperature, humidity, light and voltage; values outside go to the DLQ as `implausible`.',
};

interface JsonSchemaNode {
  type?: string | string[];
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
}

export interface ConfigKeyDoc {
  key: string;
  type: string;
  default: string;
  env: string;
  description: string;
}

function typeName(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (node.anyOf) return node.anyOf.map(typeName).join(' \\| ');
  if (node.type === 'array') return `${node.items?.type ?? 'value'}[]`;
  return String(node.type ?? 'value');
}

/** Every leaf key of the configuration with its type, default and environment variable. */
export function configKeys(): ConfigKeyDoc[] {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input' }) as JsonSchemaNode;
  const envByKey = new Map(Object.entries(ENV_VARS).map(([env, key]) => [key, env]));
  const out: ConfigKeyDoc[] = [];
  const walk = (node: JsonSchemaNode, prefix: string): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (child.type === 'object' && child.properties) {
        walk(child, key);
        continue;
      }
      out.push({
        key,
        type: typeName(child),
        default: child.default === undefined ? '(none)' : JSON.stringify(child.default),
        env: envByKey.get(key) ?? '—',
        description: CONFIG_DESCRIPTIONS[key] ?? '',
      });
      // A key that is either a value or an object (kafka.ssl) also lists the object's keys.
      for (const branch of child.anyOf ?? []) if (branch.properties) walk(branch, key);
    }
  };
  walk(schema, '');
  return out;
}

export function renderConfigDoc(): string {
  const rows = configKeys()
    .map(
      (k) =>
        `| \`${k.key}\` | ${k.type} | \`${k.default}\` | ${k.env === '—' ? '—' : `\`${k.env}\``} | ${k.description} |`,
    )
    .join('\n');
  return `# Configuration

<!-- generated by \`node --import tsx scripts/config-doc.ts\` from common/config.ts; do not edit by hand -->

Every wsn-watch service reads one configuration object. Each key comes from,
lowest precedence first:

1. the built-in default (below),
2. a JSON configuration file: \`--config FILE\` or \`WSN_CONFIG=FILE\`, nested as
   the keys are dotted (\`{"kafka": {"brokers": ["10.0.0.5:9092"]}}\`),
3. the environment variable of the key,
4. the command-line flag of the command you run (see \`wsn-watch <command> --help\`).

An invalid value stops the command with a message naming the key and what was
wrong, for example \`invalid configuration: ingest.tickMs: Too small: expected number to be >0\`.

| key | type | default | environment | what it does |
| --- | --- | --- | --- | --- |
${rows}
`;
}
