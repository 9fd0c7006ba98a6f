import { counter, gauge, histogram, metricsClass } from '../../common/metrics.ts';
import { DEFAULT_MAX_CLUSTERS_PER_CALL } from '../../model/index.ts';

/**
 * Seconds: sub-second scoring up to ticks plus allowed lateness (31 s + 62 s by default) and a backlog; fine up to
 * one 31 s tick, so that a percentile read from the buckets is within a second or a few, not a whole tick.
 */
const LATENCY_BUCKETS = [
  0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12.5, 15, 20, 25, 31, 62, 93, 120, 300, 600,
];

/** The detector service's Prometheus metrics (each named wsn_detector_ + its row's name). */
const DETECTOR_METRICS = {
  frames: counter('frames_total', 'Frames by outcome: processed, skipped (tick already processed) or invalid', [
    'outcome',
  ]),
  modelSeconds: histogram(
    'model_seconds',
    `Wall time of one scoring round of a batch: one tick of each cluster ready, in native calls of at most detector.modelClustersPerCall clusters (default ${DEFAULT_MAX_CLUSTERS_PER_CALL})`,
    { buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] },
  ),
  batchClusters: histogram(
    'model_batch_clusters',
    'Clusters scored in one scoring round of a batch (see model_seconds)',
    {
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    },
  ),
  batchSeconds: histogram(
    'batch_seconds',
    'Wall time of one run of frames from the start of its scoring (the model included) to the end of its delivery (the sinks and alert routing), a wait for the delivery of the run before included; the next run is scored while a run is delivered; checkpoints come after the runs (checkpoint_seconds)',
    { buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  ),
  handOverFrames: histogram(
    'hand_over_frames',
    "Frames in one hand-over: the batches the consumer hands over together (one fetch's partitions), scored in runs of at most detector.maxFramesPerRun; frames published meanwhile wait for the next",
    { buckets: [1, 8, 32, 128, 256, 512, 1024, 2048, 4096] },
  ),
  handOverSeconds: histogram(
    'hand_over_seconds',
    'Wall time of one hand-over, from the end of its wait for the rest of a tick (tick_gather_total) to its answer: its runs, their delivery and the checkpoints due; the consumer fetches again after it',
    { buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30] },
  ),
  tickGather: counter(
    'tick_gather_total',
    'Hand-overs whose newest tick lacked the frame of a cluster scored at the tick before (detector.gatherMs), by outcome: again (waited, then answered so that the consumer fetches the batches again with the rest), taken (waited and took batches another fetch handed over meanwhile), incomplete (went on without them: the wait was over)',
    ['outcome'],
  ),
  sinkSeconds: histogram(
    'sink_write_seconds',
    "Wall time of one run's write to the result sinks (InfluxDB and wsn.anomalies together), failed writes included; the next run is scored meanwhile, and its delivery waits for it",
    { buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  ),
  alerts: counter('alerts_total', 'Alert transitions', ['kind', 'status']),
  warmingNodeTicks: counter(
    'warming_node_ticks_total',
    'Node-ticks scored but not judged: the node joined its cluster (added or moved in) less than a window and context warm-up ago',
  ),
  topologyChanges: counter('topology_changes_total', 'Node changes seen in the frames', ['change']),
  suppressed: counter(
    'alerts_suppressed_total',
    'Alert transitions held back because a maintenance silence covered the node',
    ['kind', 'status'],
  ),
  silencesActive: gauge('silences_active', 'Maintenance silences in force, as this replica sees the silences topic'),
  feedbackRaises: gauge(
    'feedback_raises',
    'Node thresholds raised by operator feedback (false alarms) and in force, as this replica sees the feedback topic',
  ),
  nodeThreshold: gauge(
    'node_threshold',
    'Alert threshold of a node raised by a false-alarm mark (modality * = every alert of the node)',
    ['network', 'node', 'modality'],
  ),
  deliveries: counter('alert_deliveries_total', 'Alert deliveries per route and outcome', ['route', 'outcome']),
  firing: gauge('alerts_firing', 'Alerts firing in the clusters this replica owns'),
  eventLag: gauge('event_lag_seconds', 'Wall clock minus the newest tick processed'),
  clusters: gauge('clusters', 'Clusters held by this replica'),
  batchFailures: counter('batch_failures_total', 'Batches that failed and will be redelivered'),
  sinkRefused: counter(
    'sink_refused_points_total',
    'Points the result store refused for good (an InfluxDB limit such as max-values-per-tag, a field type conflict) while storing the rest of their batch',
  ),
  checkpointWrites: counter(
    'checkpoint_writes_total',
    'Cluster checkpoints written to the state topic (every detector.checkpointIntervalMs per partition, and on shutdown)',
  ),
  checkpointSeconds: histogram('checkpoint_seconds', "Time to write one partition's pending cluster checkpoints"),
  restores: counter('state_restores_total', 'Clusters restored from the state topic after a rebalance'),
  // Latency, wall clock: meaningful on live data (a replay of old data lands in the top bucket).
  tickCloseToScore: histogram(
    'tick_close_to_score_seconds',
    'From the end of a tick (its start + ingest.tickMs) to the cluster score of that tick',
    { buckets: LATENCY_BUCKETS },
  ),
  tickCloseToAlert: histogram(
    'tick_close_to_alert_seconds',
    'From the end of the tick that changed an alert to the alert handed to its routes',
    { buckets: LATENCY_BUCKETS },
  ),
  latencyStages: histogram(
    'latency_stage_seconds',
    "Tick close → score in three stages, per score: ingest (tick close → its frame's Kafka timestamp), queue (→ the start of the work of the hand-over that holds the frame: earlier hand-overs, the coalescer and the wait for the rest of the tick) and hand-over (→ the score: the runs before it and its own scoring); the three add up to tick_close_to_score_seconds",
    { buckets: LATENCY_BUCKETS, labelNames: ['stage'] as const },
  ),
  arrivalToScore: histogram(
    'reading_arrival_to_score_seconds',
    'From the arrival at ingest of the first reading of a tick to the cluster score of that tick (frames with the x-wsn-first-arrival header)',
    { buckets: LATENCY_BUCKETS },
  ),
};

/** The detector service's metrics, on a registry of its own, with Node's default metrics. */
export class DetectorMetrics extends metricsClass('wsn_detector_', DETECTOR_METRICS) {
  constructor() {
    super({ defaultMetrics: true });
  }
}
