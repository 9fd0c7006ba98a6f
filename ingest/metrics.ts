import { Registry, collectDefaultMetrics } from 'prom-client';
import { metricsOn } from '../common/metrics.ts';
import { REJECTION_CODES, type RejectionCode } from './rejection.ts';

/** The ingest service's Prometheus metrics, on their own registry (one per service instance). */
export class IngestMetrics {
  readonly registry = new Registry();
  private readonly define = metricsOn(this.registry);
  readonly accepted = this.define.counter(
    'wsn_ingest_accepted_total',
    'Readings accepted (one per node and timestamp; a line-protocol message may hold several)',
  );
  readonly rejected = this.define.counter('wsn_ingest_rejected_total', 'Messages sent to the DLQ, by reason', {
    labelNames: ['reason'] as const,
  });
  readonly otherNetwork = this.define.counter(
    'wsn_ingest_other_network_total',
    'Messages for another network (several networks may share wsn.readings), passed over',
  );
  readonly frames = this.define.counter('wsn_ingest_frames_total', 'Frames published (one per cluster and tick)');
  readonly skippedTicks = this.define.counter(
    'wsn_ingest_skipped_ticks_total',
    'Empty ticks not emitted because the watermark jumped over more than ingest.maxCatchUpMs of event time without readings',
  );
  readonly watermark = this.define.gauge(
    'wsn_ingest_watermark_seconds',
    'Event-time watermark (max event time − allowed lateness), Unix seconds',
  );
  readonly batchSeconds = this.define.histogram(
    'wsn_ingest_batch_duration_seconds',
    'Time to decode, align, publish and checkpoint one batch',
    { buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] },
  );

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Every reason appears from the start (at 0), so dashboards and alerts see the full set.
    for (const reason of REJECTION_CODES) if (reason !== 'unknown_network') this.rejected.labels(reason).inc(0);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'wsn_ingest_' });
  }

  reject(reason: RejectionCode): void {
    this.rejected.labels(reason).inc();
  }
}
