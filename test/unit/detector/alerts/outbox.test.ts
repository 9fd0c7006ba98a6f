import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../common/log.ts';
import type { Alert } from '../../../../common/types.ts';
import { DeliveryError } from '../../../../detector/alerts/http-post.ts';
import {
  deliveredByOutbox,
  startAlertOutbox,
  webhookRouteName,
  type AlertOutbox,
} from '../../../../detector/alerts/outbox.ts';
import type { AlertRoute } from '../../../../detector/alerts/route.ts';
import { AlertTopicRoute } from '../../../../detector/alerts/topic.ts';
import { MemoryTransport } from '../../../../transport/memory.ts';
import { waitFor } from '../../../support/wait.ts';
import { FIRING_ALERT } from './sample-alert.ts';

const logger = createLogger('test', 'silent');
const alert = (node: string, status: Alert['status']): Alert => ({
  ...FIRING_ALERT,
  id: `lab/c1/${node}`,
  node,
  status,
  ...(status === 'resolved' ? { endsAt: FIRING_ALERT.startsAt + 60_000 } : {}),
});

/** A receiver that fails its first `down` deliveries (as if unreachable), and refuses alerts of node `refuse`. */
function receiver(name: string, down: number, refuse?: string) {
  const got: string[] = [];
  let attempts = 0;
  const route: AlertRoute = {
    name,
    required: false,
    deliver: async (alerts) => {
      attempts++;
      if (attempts <= down) throw new DeliveryError('http://127.0.0.1:1/…', 1, 'ECONNREFUSED');
      if (refuse && alerts.some((a) => a.node === refuse))
        throw new DeliveryError('http://127.0.0.1:1/…', 1, 'HTTP 400: bad alert', true);
      got.push(...alerts.map((a) => `${a.node}:${a.status}`));
    },
  };
  return { route, got, attempts: () => attempts };
}

let outbox: AlertOutbox | undefined;
let transport: MemoryTransport | undefined;
afterEach(async () => {
  await outbox?.close();
  await transport?.close();
});

describe('alert outbox', () => {
  it('delivers each receiver everything in order once it accepts, independently of the others; a refusal is passed over', async () => {
    transport = new MemoryTransport({ logger, retryBackoffMs: 5, defaultPartitions: 1 });
    await transport.ensureTopics([{ topic: 'alerts', partitions: 1 }]);
    const flaky = receiver('alertmanager', 3);
    const healthy = receiver('webhook-a', 0, 'x');
    const outcomes: string[] = [];
    outbox = await startAlertOutbox({
      transport,
      topic: 'alerts',
      routes: [flaky.route, healthy.route],
      logger,
      onFailure: (route, outcome) => outcomes.push(`${route}:${outcome}`),
    });
    const publish = new AlertTopicRoute(await transport.producer(), 'alerts');
    await publish.deliver([alert('a', 'firing'), alert('b', 'firing')]);
    // In one batch with an alert the receiver accepts: only x is passed over.
    await publish.deliver([alert('x', 'firing'), alert('b', 'resolved')]);
    const all = ['a:firing', 'b:firing', 'x:firing', 'b:resolved'];
    await waitFor('both receivers', () => flaky.got.length === 4 && healthy.got.length === 3, 4_000, 10);
    expect(flaky.got).toEqual(all);
    expect(healthy.got).toEqual(['a:firing', 'b:firing', 'b:resolved']);
    expect(outcomes.filter((o) => o === 'alertmanager:retry')).toHaveLength(3);
    expect(outcomes).toContain('webhook-a:refused');
  });

  it('leaves re-sends to the router and names webhook groups without their URL', async () => {
    const resent: Alert[][] = [];
    const route = deliveredByOutbox({
      name: 'alertmanager',
      required: false,
      deliver: async () => {
        throw new Error('not directly');
      },
      resend: async (firing) => void resent.push(firing),
    });
    await route.deliver([FIRING_ALERT]);
    await route.resend?.([FIRING_ALERT]);
    expect(route.viaOutbox).toBe(true);
    expect(resent).toEqual([[FIRING_ALERT]]);
    expect(webhookRouteName({ url: 'https://hooks.example.com/services/T1/B2/secret' })).toMatch(
      /^webhook-[0-9a-f]{12}$/,
    );
  });
});
