import { counter, gauge, histogram, metricsClass } from '../common/metrics.ts';
import { REJECTION_CODES, type RejectionCode } from './rejection.ts';

/** The ingest service's Prometheus metrics (each named wsn_ingest_ + its row's name). */
const INGEST_METRICS = {
  accepted: counter(
    'accepted_total',
    'Readings accepted (one per node and timestamp; a line-protocol message may hold several)',
  ),
  rejected: counter('rejected_total', 'Messages sent to the DLQ, by reason', ['reason']),
  otherNetwork: counter(
    'other_network_total',
    'Messages for another network (several networks may share wsn.readings), passed over',
  ),
  frames: counter('frames_total', 'Frames published (one per cluster and tick)'),
  skippedTicks: counter(
    'skipped_ticks_total',
    'Empty ticks not emitted because the watermark jumped over more than ingest.maxCatchUpMs of event time without readings',
  ),
  watermark: gauge('watermark_seconds', 'Event-time watermark (max event time − allowed lateness), Unix seconds'),
  batchSeconds: histogram('batch_duration_seconds', 'Time to decode, align, publish and checkpoint one batch', {
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  }),
};

/** The ingest service's metrics, on their own registry (one per service instance). */
export class IngestMetrics extends metricsClass('wsn_ingest_', INGEST_METRICS) {
  constructor(options: { defaultMetrics?: boolean } = {}) {
    super(options);
    // Every reason appears from the start (at 0), so dashboards and alerts see the full set.
    for (const reason of REJECTION_CODES) if (reason !== 'unknown_network') this.rejected.labels(reason).inc(0);
  }

  reject(reason: RejectionCode): void {
    this.rejected.labels(reason).inc();
  }
}
