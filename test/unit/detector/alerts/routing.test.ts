import { describe, expect, it, vi } from 'vitest';
import { FIRING_ALERT } from './sample-alert.ts';
import { createLogger } from '../../../../common/log.ts';
import { toPostableAlert } from '../../../../detector/alerts/alertmanager.ts';
import { AlertRouter } from '../../../../detector/alerts/router.ts';
import type { AlertRoute } from '../../../../detector/alerts/route.ts';

const firing = FIRING_ALERT;
const now = Date.UTC(2026, 0, 1);

describe('toPostableAlert', () => {
  it('labels the alert by network, cluster, node and modality; starts at event time; expires after the TTL while firing', () => {
    const postable = toPostableAlert(firing, now, 300_000);
    expect(postable.labels).toEqual({
      alertname: 'WsnNodeAnomaly',
      network: 'lab',
      cluster: 'c1',
      node: '7',
      modality: 'humidity',
      severity: 'critical',
    });
    expect(postable.annotations).toMatchObject({ probability: '0.9300', dashboard: firing.dashboardUrl });
    expect(postable.annotations.summary).toContain('humidity');
    expect(postable.startsAt).toBe('2004-03-06T12:00:00.000Z');
    expect(postable.endsAt).toBe(new Date(now + 300_000).toISOString());
  });

  it('a resolved alert ends at its event time, never in the future', () => {
    expect(toPostableAlert({ ...firing, status: 'resolved', endsAt: firing.startsAt + 60_000 }, now, 1).endsAt).toBe(
      '2004-03-06T12:01:00.000Z',
    );
    expect(toPostableAlert({ ...firing, status: 'resolved', endsAt: now + 10_000 }, now, 1).endsAt).toBe(
      new Date(now).toISOString(),
    );
  });

  it('a silent node gets its own alert name and modality none', () => {
    const postable = toPostableAlert({ ...firing, kind: 'silent', modality: 'none' }, now, 1);
    expect(postable.labels).toMatchObject({ alertname: 'WsnNodeSilent', modality: 'none', severity: 'warning' });
    expect(postable.annotations.summary).toMatch(/stopped reporting/);
  });
});

function route(name: string, required: boolean, fail: boolean, log: string[]): AlertRoute {
  return {
    name,
    required,
    async deliver(alerts) {
      log.push(`${name}:${alerts.length}`);
      if (fail) throw new Error(`${name} down`);
    },
  };
}

describe('AlertRouter', () => {
  const logger = createLogger('test', 'silent');

  it('delivers to every route even when an optional one fails, and does not reject for it', async () => {
    const log: string[] = [];
    const outcomes: string[] = [];
    const router = new AlertRouter({
      routes: [route('am', false, true, log), route('topic', true, false, log)],
      logger,
      onDelivery: (r, o) => outcomes.push(`${r}:${o}`),
    });
    await router.route([firing]);
    expect(log.sort()).toEqual(['am:1', 'topic:1']);
    expect(outcomes.sort()).toEqual(['am:failed', 'topic:ok']);
  });

  it('rejects when a required route fails, so the batch is retried', async () => {
    const log: string[] = [];
    const router = new AlertRouter({
      routes: [route('am', false, false, log), route('topic', true, true, log)],
      logger,
    });
    await expect(router.route([firing])).rejects.toThrow('topic down');
  });

  it('re-sends firing alerts periodically only to routes that expire them', async () => {
    const resent: number[] = [];
    const log: string[] = [];
    const am: AlertRoute = {
      ...route('am', false, false, log),
      resend: async (alerts) => void resent.push(alerts.length),
    };
    const router = new AlertRouter({ routes: [am, route('topic', true, false, log)], logger });
    vi.useFakeTimers();
    try {
      router.startResending(1_000, () => [firing, { ...firing, id: 'lab/c1/8', node: '8' }]);
      await vi.advanceTimersByTimeAsync(3_500);
      expect(resent).toEqual([2, 2, 2]);
      await router.stopResending();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(resent).toHaveLength(3);
      expect(log).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
