import { createHash } from 'node:crypto';
import type { Logger } from '../../common/log.ts';
import type { IncomingBatch, Subscription, Transport } from '../../common/transport.ts';
import type { Alert } from '../../common/types.ts';
import { DeliveryError } from './http-post.ts';
import type { AlertRoute } from './route.ts';
import { WebhookRoute, type WebhookTarget } from './webhook.ts';
import type { DeliveryRetry } from './http-post.ts';

/**
 * At-least-once alert delivery. The `wsn.alerts` topic is the outbox: the
 * detector publishes every transition there first (a failed publish fails
 * its batch). One consumer group per receiver (Alertmanager, each webhook)
 * reads it and posts each batch; offsets are committed only after the
 * receiver accepted, so a receiver that is down gets every transition once it
 * is back, in the order they happened (alerts are keyed by node, one
 * partition keeps a node's transitions in order). An alert that fired and
 * resolved during an outage is delivered as both. Each receiver has its own
 * progress: a dead webhook does not hold back Alertmanager, and a working one
 * is not sent a batch twice because another failed.
 *
 * A receiver that refuses a batch for good (a 4xx other than 429) would
 * refuse it forever: its alerts are then sent one at a time, and those
 * refused alone are logged as errors and passed over.
 * Transitions older than `maxAgeMs` (Kafka timestamp) are passed over too: a
 * group created on a topic with history must not replay days of alerts.
 */
export interface AlertOutboxOptions {
  transport: Transport;
  /** The alerts topic (wsn.alerts). */
  topic: string;
  /** Receivers, each delivered by its own consumer group. */
  routes: AlertRoute[];
  logger: Logger;
  /** Group id prefix; the topic and the route's name complete it. Default `wsn-alert-delivery`. */
  groupPrefix?: string;
  /** Transitions older than this are not delivered (default 24 h). */
  maxAgeMs?: number;
  /** Called after a receiver accepted a batch (metrics, tests). */
  onDelivered?(route: string, alerts: Alert[]): void;
  /** Called after a failed attempt (the batch will be delivered again) or a refusal (passed over). */
  onFailure?(route: string, outcome: 'retry' | 'refused', alerts: number): void;
  now?: () => number;
}

export interface AlertOutbox {
  close(): Promise<void>;
}

/** A stable name for a webhook's consumer group that does not reveal its URL (which may hold a secret). */
export function webhookRouteName(target: WebhookTarget): string {
  return `webhook-${createHash('sha256').update(target.url).digest('hex').slice(0, 12)}`;
}

/** One route per webhook target, so each has its own delivery progress. */
export function webhookRoutes(targets: WebhookTarget[], retry?: DeliveryRetry): AlertRoute[] {
  return targets.map((target) => {
    const route = new WebhookRoute([target], retry);
    return { name: webhookRouteName(target), required: false, deliver: (alerts: Alert[]) => route.deliver(alerts) };
  });
}

/**
 * The route as the detector's router sees it once the outbox delivers it:
 * no direct delivery (the outbox does it), re-sends of firing alerts kept.
 */
export function deliveredByOutbox(route: AlertRoute): AlertRoute {
  return {
    name: route.name,
    required: false,
    viaOutbox: true,
    deliver: async () => undefined,
    ...(route.resend ? { resend: (firing: Alert[]) => route.resend!(firing) } : {}),
  };
}

function isRefusal(error: unknown): boolean {
  const errors = error instanceof AggregateError ? error.errors : [error];
  return errors.length > 0 && errors.every((e) => e instanceof DeliveryError && e.refused);
}

export async function startAlertOutbox(options: AlertOutboxOptions): Promise<AlertOutbox> {
  const { logger } = options;
  const maxAgeMs = options.maxAgeMs ?? 24 * 3600_000;
  const now = options.now ?? Date.now;
  const subscriptions: Subscription[] = [];
  try {
    for (const route of options.routes) {
      // The topic is part of the group: groups on different alert topics (tests, networks) must not share members.
      const groupId = `${options.groupPrefix ?? 'wsn-alert-delivery'}.${options.topic}.${route.name}`;
      subscriptions.push(
        await options.transport.subscribe({
          groupId,
          topics: [options.topic],
          fromBeginning: true,
          onBatch: async (batch: IncomingBatch) => {
            const alerts: Alert[] = [];
            for (const message of batch.messages) {
              if (now() - message.timestamp > maxAgeMs) continue;
              try {
                alerts.push(JSON.parse(message.value.toString('utf8')) as Alert);
              } catch (error) {
                logger.error(
                  {
                    route: route.name,
                    partition: batch.partition,
                    offset: message.offset,
                    err: (error as Error).message,
                  },
                  'unreadable alert on the alerts topic; passed over',
                );
              }
            }
            if (alerts.length === 0) return;
            try {
              await route.deliver(alerts);
            } catch (error) {
              if (isRefusal(error)) {
                // One at a time, so only what the receiver refuses is passed over.
                const accepted: Alert[] = [];
                for (const alert of alerts) {
                  try {
                    await route.deliver([alert]);
                    accepted.push(alert);
                  } catch (single) {
                    if (!isRefusal(single)) {
                      options.onFailure?.(route.name, 'retry', alerts.length);
                      throw single;
                    }
                    options.onFailure?.(route.name, 'refused', 1);
                    logger.error(
                      { route: route.name, alert: alert.id, status: alert.status, err: (single as Error).message },
                      'receiver refused an alert for good (4xx); passed over',
                    );
                  }
                }
                if (accepted.length > 0) options.onDelivered?.(route.name, accepted);
                return;
              }
              options.onFailure?.(route.name, 'retry', alerts.length);
              // Thrown: nothing is committed and the transport delivers the batch again after a backoff.
              throw error;
            }
            options.onDelivered?.(route.name, alerts);
          },
        }),
      );
      logger.info({ route: route.name, groupId, topic: options.topic }, 'alert outbox delivers this receiver');
    }
  } catch (error) {
    await Promise.all(subscriptions.map((s) => s.close().catch(() => undefined)));
    throw error;
  }
  return {
    close: async () => {
      await Promise.all(subscriptions.map((s) => s.close()));
    },
  };
}
