import { Registry, collectDefaultMetrics } from 'prom-client';
import { metricsOn } from '../../common/metrics.ts';

/** Seconds: sub-second scoring up to ticks plus allowed lateness (31 s + 62 s by default) and a backlog. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 31, 62, 93, 120, 300, 600];

/** The detector service's Prometheus metrics, on a registry of its own. */
export class DetectorMetrics {
  readonly registry = new Registry();
  private readonly define = metricsOn(this.registry);
  readonly frames = this.define.counter(
    'wsn_detector_frames_total',
    'Frames by outcome: processed, skipped (tick already processed) or invalid',
    { labelNames: ['outcome'] as const },
  );
  readonly modelSeconds = this.define.histogram('wsn_detector_model_seconds', 'Wall time of one batched model call', {
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  readonly batchClusters = this.define.histogram(
    'wsn_detector_model_batch_clusters',
    'Clusters scored together in one model call',
    { buckets: [1, 2, 4, 8, 16, 32, 64, 128] },
  );
  readonly batchSeconds = this.define.histogram(
    'wsn_detector_batch_seconds',
    'Wall time of one consumed batch: decode, model, sinks, alerts, checkpoint',
    { buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  );
  readonly alerts = this.define.counter('wsn_detector_alerts_total', 'Alert transitions', {
    labelNames: ['kind', 'status'] as const,
  });
  readonly warmingNodeTicks = this.define.counter(
    'wsn_detector_warming_node_ticks_total',
    'Node-ticks scored but not judged: the node joined its cluster (added or moved in) less than a window and context warm-up ago',
  );
  readonly topologyChanges = this.define.counter(
    'wsn_detector_topology_changes_total',
    'Node changes seen in the frames',
    {
      labelNames: ['change'] as const,
    },
  );
  readonly suppressed = this.define.counter(
    'wsn_detector_alerts_suppressed_total',
    'Alert transitions held back because a maintenance silence covered the node',
    { labelNames: ['kind', 'status'] as const },
  );
  readonly silencesActive = this.define.gauge(
    'wsn_detector_silences_active',
    'Maintenance silences in force, as this replica sees the silences topic',
  );
  readonly feedbackRaises = this.define.gauge(
    'wsn_detector_feedback_raises',
    'Node thresholds raised by operator feedback (false alarms) and in force, as this replica sees the feedback topic',
  );
  readonly nodeThreshold = this.define.gauge(
    'wsn_detector_node_threshold',
    'Alert threshold of a node raised by a false-alarm mark (modality * = every alert of the node)',
    { labelNames: ['network', 'node', 'modality'] as const },
  );
  readonly deliveries = this.define.counter(
    'wsn_detector_alert_deliveries_total',
    'Alert deliveries per route and outcome',
    { labelNames: ['route', 'outcome'] as const },
  );
  readonly firing = this.define.gauge('wsn_detector_alerts_firing', 'Alerts firing in the clusters this replica owns');
  readonly eventLag = this.define.gauge('wsn_detector_event_lag_seconds', 'Wall clock minus the newest tick processed');
  readonly clusters = this.define.gauge('wsn_detector_clusters', 'Clusters held by this replica');
  readonly batchFailures = this.define.counter(
    'wsn_detector_batch_failures_total',
    'Batches that failed and will be redelivered',
  );
  readonly checkpointWrites = this.define.counter(
    'wsn_detector_checkpoint_writes_total',
    'Cluster checkpoints written to the state topic (every detector.checkpointIntervalMs per partition, and on shutdown)',
  );
  readonly checkpointSeconds = this.define.histogram(
    'wsn_detector_checkpoint_seconds',
    "Time to write one partition's pending cluster checkpoints",
  );
  readonly restores = this.define.counter(
    'wsn_detector_state_restores_total',
    'Clusters restored from the state topic after a rebalance',
  );
  // Latency, wall clock: meaningful on live data (a replay of old data lands in the top bucket).
  readonly tickCloseToScore = this.define.histogram(
    'wsn_detector_tick_close_to_score_seconds',
    'From the end of a tick (its start + ingest.tickMs) to the cluster score of that tick',
    { buckets: LATENCY_BUCKETS },
  );
  readonly tickCloseToAlert = this.define.histogram(
    'wsn_detector_tick_close_to_alert_seconds',
    'From the end of the tick that changed an alert to the alert handed to its routes',
    { buckets: LATENCY_BUCKETS },
  );
  readonly arrivalToScore = this.define.histogram(
    'wsn_detector_reading_arrival_to_score_seconds',
    'From the arrival at ingest of the first reading of a tick to the cluster score of that tick (frames with the x-wsn-first-arrival header)',
    { buckets: LATENCY_BUCKETS },
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'wsn_detector_' });
  }
}
