import type { Alert } from '../../common/types.ts';
import type { Logger } from '../../common/log.ts';
import type { AlertRoute } from './route.ts';

export interface AlertRouterOptions {
  routes: AlertRoute[];
  logger: Logger;
  /** Called once per delivery attempt outcome, for metrics. */
  onDelivery?(route: string, outcome: 'ok' | 'failed', alerts: number): void;
}

/**
 * Sends alert transitions to every route in parallel. A failure of a required
 * route (the topic) rejects, so the batch is retried; other routes' failures
 * are logged and counted after their own retries.
 */
export class AlertRouter {
  private resendTimer: NodeJS.Timeout | undefined;
  private resending: Promise<void> = Promise.resolve();

  constructor(private readonly options: AlertRouterOptions) {}

  async route(alerts: Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.each((route) => route.deliver(alerts), alerts.length);
  }

  /** Re-sends the firing alerts every `intervalMs` to routes that expire them, until stop(). */
  startResending(intervalMs: number, firing: () => Alert[]): void {
    this.stopResending();
    this.resendTimer = setInterval(() => {
      const alerts = firing();
      if (alerts.length === 0) return;
      this.resending = this.each(
        (route) => (route.resend ? route.resend(alerts) : Promise.resolve()),
        alerts.length,
        true,
      ).catch(() => undefined);
    }, intervalMs);
    this.resendTimer.unref();
  }

  async stopResending(): Promise<void> {
    if (this.resendTimer) clearInterval(this.resendTimer);
    this.resendTimer = undefined;
    await this.resending;
  }

  private async each(send: (route: AlertRoute) => Promise<void>, count: number, resend = false): Promise<void> {
    const { routes, logger, onDelivery } = this.options;
    const results = await Promise.allSettled(routes.map((route) => send(route)));
    let requiredFailure: Error | undefined;
    results.forEach((result, i) => {
      const route = routes[i];
      if (resend && !route.resend) return;
      if (!resend && route.viaOutbox) return; // counted by the outbox when the receiver accepts
      if (result.status === 'fulfilled') {
        onDelivery?.(route.name, 'ok', count);
        return;
      }
      const error = result.reason as Error;
      onDelivery?.(route.name, 'failed', count);
      logger.warn(
        { route: route.name, alerts: count, err: error.message },
        resend ? 'alert re-send failed' : 'alert delivery failed',
      );
      if (route.required) requiredFailure ??= error;
    });
    if (requiredFailure) throw requiredFailure;
  }
}
