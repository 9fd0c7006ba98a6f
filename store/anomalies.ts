import type { TransportProducer } from '../common/transport.ts';
import { TOPICS } from '../common/types.ts';
import type { ResultBatch, ResultSink } from './sink.ts';

/**
 * Publishes every ClusterScore on `wsn.anomalies` as JSON, keyed by cluster
 * (so one cluster's scores stay in tick order), with the tick in the value and
 * the `x-wsn-tick` header. The Kafka timestamp stays the send time: with the
 * tick as timestamp, time-based retention would delete the scores of replayed
 * old data at once.
 *
 * No copies on retries: a batch is written to every sink at once and retried
 * whole when one of them fails (InfluxDB down), so this publisher remembers
 * the newest tick it published per cluster and skips ticks at or below it.
 * With the idempotent producer (a retried send is not written twice) a
 * running detector publishes each (network, cluster, tick) once. A detector
 * that restarts from its checkpoint can publish the ticks after that
 * checkpoint again: consumers that must not count twice deduplicate by
 * (network, cluster, tick), which every message carries.
 */
export class AnomalyPublisher implements ResultSink {
  readonly name = 'anomalies';
  /** Newest tick published per network/cluster. */
  private readonly publishedUpTo = new Map<string, number>();

  constructor(
    private readonly producer: TransportProducer,
    private readonly topic: string = TOPICS.anomalies,
  ) {}

  async write(batch: ResultBatch): Promise<void> {
    const fresh = batch.scores.filter(
      (score) => score.tick > (this.publishedUpTo.get(`${score.network}/${score.cluster}`) ?? -Infinity),
    );
    if (fresh.length === 0) return;
    await this.producer.send(
      this.topic,
      fresh.map((score) => ({
        key: score.cluster,
        value: JSON.stringify(score),
        headers: { 'x-wsn-network': score.network, 'x-wsn-tick': String(score.tick) },
      })),
    );
    for (const score of fresh) {
      const key = `${score.network}/${score.cluster}`;
      this.publishedUpTo.set(key, Math.max(score.tick, this.publishedUpTo.get(key) ?? -Infinity));
    }
  }

  async close(): Promise<void> {
    // The producer belongs to the caller.
  }
}
