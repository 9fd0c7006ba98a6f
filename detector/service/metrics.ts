import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds: sub-second scoring up to ticks plus allowed lateness (31 s + 62 s by default) and a backlog. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 31, 62, 93, 120, 300, 600];

/** The detector service's Prometheus metrics, on a registry of its own. */
export class DetectorMetrics {
  readonly registry = new Registry();
  readonly frames = new Counter({
    name: 'wsn_detector_frames_total',
    help: 'Frames by outcome: processed, skipped (tick already processed) or invalid',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly modelSeconds = new Histogram({
    name: 'wsn_detector_model_seconds',
    help: 'Wall time of one batched model call',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly batchClusters = new Histogram({
    name: 'wsn_detector_model_batch_clusters',
    help: 'Clusters scored together in one model call',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'wsn_detector_batch_seconds',
    help: 'Wall time of one consumed batch: decode, model, sinks, alerts, checkpoint',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: 'wsn_detector_alerts_total',
    help: 'Alert transitions',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });
  readonly suppressed = new Counter({
    name: 'wsn_detector_alerts_suppressed_total',
    help: 'Alert transitions held back because a maintenance silence covered the node',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });
  readonly silencesActive = new Gauge({
    name: 'wsn_detector_silences_active',
    help: 'Maintenance silences in force, as this replica sees the silences topic',
    registers: [this.registry],
  });
  readonly feedbackRaises = new Gauge({
    name: 'wsn_detector_feedback_raises',
    help: 'Node thresholds raised by operator feedback (false alarms) and in force, as this replica sees the feedback topic',
    registers: [this.registry],
  });
  readonly nodeThreshold = new Gauge({
    name: 'wsn_detector_node_threshold',
    help: 'Alert threshold of a node raised by a false-alarm mark (modality * = every alert of the node)',
    labelNames: ['network', 'node', 'modality'] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'wsn_detector_alert_deliveries_total',
    help: 'Alert deliveries per route and outcome',
    labelNames: ['route', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly firing = new Gauge({
    name: 'wsn_detector_alerts_firing',
    help: 'Alerts firing in the clusters this replica owns',
    registers: [this.registry],
  });
  readonly eventLag = new Gauge({
    name: 'wsn_detector_event_lag_seconds',
    help: 'Wall clock minus the newest tick processed',
    registers: [this.registry],
  });
  readonly clusters = new Gauge({
    name: 'wsn_detector_clusters',
    help: 'Clusters held by this replica',
    registers: [this.registry],
  });
  readonly batchFailures = new Counter({
    name: 'wsn_detector_batch_failures_total',
    help: 'Batches that failed and will be redelivered',
    registers: [this.registry],
  });
  readonly checkpointWrites = new Counter({
    name: 'wsn_detector_checkpoint_writes_total',
    help: 'Cluster checkpoints written to the state topic (every detector.checkpointIntervalMs per partition, and on shutdown)',
    registers: [this.registry],
  });
  readonly checkpointSeconds = new Histogram({
    name: 'wsn_detector_checkpoint_seconds',
    help: "Time to write one partition's pending cluster checkpoints",
    registers: [this.registry],
  });
  readonly restores = new Counter({
    name: 'wsn_detector_state_restores_total',
    help: 'Clusters restored from the state topic after a rebalance',
    registers: [this.registry],
  });
  // Latency, wall clock: meaningful on live data (a replay of old data lands in the top bucket).
  readonly tickCloseToScore = new Histogram({
    name: 'wsn_detector_tick_close_to_score_seconds',
    help: 'From the end of a tick (its start + ingest.tickMs) to the cluster score of that tick',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly tickCloseToAlert = new Histogram({
    name: 'wsn_detector_tick_close_to_alert_seconds',
    help: 'From the end of the tick that changed an alert to the alert handed to its routes',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly arrivalToScore = new Histogram({
    name: 'wsn_detector_reading_arrival_to_score_seconds',
    help: 'From the arrival at ingest of the first reading of a tick to the cluster score of that tick (frames with the x-wsn-first-arrival header)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'wsn_detector_' });
  }
}
