import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/wait.ts';
import { requireServices, runId } from './services.ts';

// An alert posted with the v2 API must be listed by the same API with its labels.
const id = runId();

interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
}

interface GettableAlert extends PostableAlert {
  fingerprint: string;
  status: { state: string };
}

describe('foundation: Alertmanager API v2', () => {
  let base: string;
  const alert: PostableAlert = {
    labels: { alertname: 'WsnFoundationCheck', network: 'foundation-test', cluster: 'c1', node: 'mote-3', run: id },
    annotations: { summary: 'integration test alert' },
  };

  async function post(alerts: PostableAlert[]): Promise<void> {
    const response = await fetch(new URL('/api/v2/alerts', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    expect(response.status).toBe(200);
  }

  async function listByRun(): Promise<GettableAlert[]> {
    const url = new URL('/api/v2/alerts', base);
    url.searchParams.append('filter', `run="${id}"`);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    return (await response.json()) as GettableAlert[];
  }

  beforeAll(async () => {
    base = (await requireServices()).alertmanager.url;
  });

  afterAll(async () => {
    // Resolve it: an alert whose endsAt has passed is no longer active.
    if (base) await post([{ ...alert, endsAt: new Date(Date.now() - 1_000).toISOString() }]);
  });

  it('lists a posted alert with its labels as active', async () => {
    const startsAt = new Date().toISOString();
    await post([{ ...alert, startsAt, endsAt: new Date(Date.now() + 10 * 60_000).toISOString() }]);

    // The API stores posted alerts synchronously; poll briefly anyway rather than rely on that.
    let listed: GettableAlert[] = [];
    await waitFor('the posted alert to be listed', async () => (listed = await listByRun()).length > 0, 5_000, 250);
    expect(listed).toHaveLength(1);
    expect(listed[0].labels).toEqual(alert.labels);
    expect(listed[0].annotations).toEqual(alert.annotations);
    expect(listed[0].status.state).toBe('active');
  });
});
