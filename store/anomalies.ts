import type { TransportProducer } from '../common/transport.ts';
import { TOPICS } from '../common/types.ts';
import type { ResultBatch, ResultSink } from './sink.ts';

/**
 * Publishes every ClusterScore on `wsn.anomalies` as JSON, keyed by cluster
 * (so one cluster's scores stay in tick order). The Kafka timestamp stays the
 * send time: with the tick as timestamp, time-based retention would delete the
 * scores of replayed old data at once; the tick is in the value. At-least-once: a replayed batch publishes its scores again;
 * consumers deduplicate by (network, cluster, tick).
 */
export class AnomalyPublisher implements ResultSink {
  readonly name = 'anomalies';

  constructor(
    private readonly producer: TransportProducer,
    private readonly topic: string = TOPICS.anomalies,
  ) {}

  async write(batch: ResultBatch): Promise<void> {
    if (batch.scores.length === 0) return;
    await this.producer.send(
      this.topic,
      batch.scores.map((score) => ({ key: score.cluster, value: JSON.stringify(score) })),
    );
  }

  async close(): Promise<void> {
    // The producer belongs to the caller.
  }
}
