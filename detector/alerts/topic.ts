import type { TransportProducer } from '../../common/transport.ts';
import { TOPICS, type Alert } from '../../common/types.ts';
import type { AlertRoute } from './route.ts';

/**
 * Publishes alert transitions on `wsn.alerts` (JSON, key = alert id, so one
 * node's alerts stay in order). Required: a failed publish fails the batch,
 * which is then retried with its frames.
 */
export class AlertTopicRoute implements AlertRoute {
  readonly name = 'topic';
  readonly required = true;

  constructor(
    private readonly producer: TransportProducer,
    private readonly topic: string = TOPICS.alerts,
  ) {}

  async deliver(alerts: Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.producer.send(
      this.topic,
      alerts.map((alert) => ({ key: alert.id, value: JSON.stringify(alert) })),
    );
  }
}
