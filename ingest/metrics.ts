import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REJECTION_CODES, type RejectionCode } from './rejection.ts';

/** The ingest service's Prometheus metrics, on their own registry (one per service instance). */
export class IngestMetrics {
  readonly registry = new Registry();
  readonly accepted = new Counter({
    name: 'wsn_ingest_accepted_total',
    help: 'Readings accepted (one per node and timestamp; a line-protocol message may hold several)',
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'wsn_ingest_rejected_total',
    help: 'Messages sent to the DLQ, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly otherNetwork = new Counter({
    name: 'wsn_ingest_other_network_total',
    help: 'Messages for another network (several networks may share wsn.readings), passed over',
    registers: [this.registry],
  });
  readonly frames = new Counter({
    name: 'wsn_ingest_frames_total',
    help: 'Frames published (one per cluster and tick)',
    registers: [this.registry],
  });
  readonly skippedTicks = new Counter({
    name: 'wsn_ingest_skipped_ticks_total',
    help: 'Empty ticks not emitted because the watermark jumped over more than ingest.maxCatchUpMs of event time without readings',
    registers: [this.registry],
  });
  readonly watermark = new Gauge({
    name: 'wsn_ingest_watermark_seconds',
    help: 'Event-time watermark (max event time − allowed lateness), Unix seconds',
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'wsn_ingest_batch_duration_seconds',
    help: 'Time to decode, align, publish and checkpoint one batch',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Every reason appears from the start (at 0), so dashboards and alerts see the full set.
    for (const reason of REJECTION_CODES) if (reason !== 'unknown_network') this.rejected.labels(reason).inc(0);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'wsn_ingest_' });
  }

  reject(reason: RejectionCode): void {
    this.rejected.labels(reason).inc();
  }
}
