import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { decodeFeedback } from '../../../common/feedback.ts';
import { createLogger } from '../../../common/log.ts';
import { startDashboardServer, type DashboardServer } from '../../../dashboards/web/server.ts';
import { FeedbackRecorder } from '../../../detector/feedback/record.ts';
import { MemoryResultStore } from '../../../store/memory.ts';
import { staticTopology } from '../../../store/results.ts';
import { MemoryTransport } from '../../../transport/memory.ts';
import { LAB_TOPOLOGY, NETWORK, labBatch } from '../../integration/dashboards/lab-network.ts';

const TOKEN = 'feedback-token-0123456789abcdef';

describe('dashboard feedback endpoint (POST /api/feedback)', () => {
  const transport = new MemoryTransport();
  const logLines: string[] = [];
  let server: DashboardServer;
  let off: DashboardServer;
  let alertId: string;

  beforeAll(async () => {
    const store = new MemoryResultStore();
    for (let i = 0; i < 10; i++) await store.write(labBatch(i, 6));
    alertId = (await store.alerts(NETWORK))[0].id;
    // InfluxDB on a closed port: the mark still goes to the topic and the answer says the copy failed.
    const config = loadConfig({
      env: { WSN_CONFIG: '', WSN_INFLUX_URL: 'http://127.0.0.1:1', WSN_FEEDBACK_TOKEN: TOKEN },
    });
    const recorder = new FeedbackRecorder(config, transport);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    server = await startDashboardServer({
      store,
      topology: staticTopology([LAB_TOPOLOGY]),
      port: 0,
      heartbeatMs: 60_000,
      logger: createLogger('dashboard', 'info', sink),
      feedback: { token: TOKEN, mark: (input, lookup, author) => recorder.mark(input, lookup, author) },
    });
    off = await startDashboardServer({ store, topology: staticTopology([LAB_TOPOLOGY]), port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await off.close();
    await transport.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}, base = server.url) =>
    fetch(`${base}/api/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

  it('refuses a request without the token, or with a wrong one, with 401 and writes nothing', async () => {
    for (const authorization of ['', 'Bearer wrong-token', `Basic ${TOKEN}`, TOKEN]) {
      const res = await post({ alert: alertId, verdict: 'false' }, { authorization });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await errorOf(res)).toContain('bearer token');
    }
    const table = transport.table({ topic: 'wsn.feedback', partitions: 1 });
    expect((await table.readToEnd()).size).toBe(0);
  });

  it('says what is wrong with bad input (400) or an unknown alert (404)', async () => {
    const cases: Array<[unknown, number, string]> = [
      ['{not json', 400, 'not JSON'],
      [[1, 2], 400, 'JSON object'],
      [{ alert: alertId }, 400, 'field "verdict" must be a string'],
      [{ alert: alertId, verdict: 'maybe' }, 400, 'verdict must be "false"'],
      [{ alert: alertId, verdict: 'false', colour: 'red' }, 400, 'unknown field "colour"'],
      [{ alert: 'no-slashes', verdict: 'false' }, 400, 'network/cluster/node'],
      [{ alert: alertId, verdict: 'false', note: 'x'.repeat(501) }, 400, 'at most 500'],
      [{ alert: `${NETWORK}/c9/99`, verdict: 'false' }, 404, `no alert "${NETWORK}/c9/99" on the dashboard's alerts`],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(await errorOf(res)).toContain(message);
    }
    const wrongType = await post({ alert: alertId, verdict: 'false' }, { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(400);
    expect(await errorOf(wrongType)).toContain('application/json');
  });

  it('marks an alert on the dashboard: the record on the feedback topic, the mark shown in the overview of a store with feedback', async () => {
    const res = await post({ alert: alertId, verdict: 'false', note: 'door open' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { message: string; warning?: string; feedback: { verdict: string } };
    expect(body.feedback).toMatchObject({ alertId, verdict: 'false', note: 'door open', author: 'dashboard' });
    expect(body.message).toMatch(
      new RegExp(`^alert ${alertId} .* marked a false alarm: node 7's temperature alerts need p > 0\\.\\d{3} until `),
    );
    expect(body.warning).toContain('not copied to InfluxDB');
    const table = transport.table({ topic: 'wsn.feedback', partitions: 1 });
    const stored = decodeFeedback((await table.readToEnd()).get(alertId)!);
    expect(stored).toMatchObject({ alertId, node: '7', modality: 'temperature', verdict: 'false' });
    const overview = (await (await fetch(`${server.url}/api/networks/${NETWORK}/overview`)).json()) as {
      feedbackEnabled: boolean;
    };
    expect(overview.feedbackEnabled).toBe(true);
    // The token never reaches the log.
    expect(logLines.join('')).toContain('feedback marked from the dashboard');
    expect(logLines.join('')).not.toContain(TOKEN);
  });

  it('is off (404, no buttons) when no token is configured', async () => {
    const res = await post({ alert: alertId, verdict: 'false' }, {}, off.url);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toContain('WSN_FEEDBACK_TOKEN');
    const overview = (await (await fetch(`${off.url}/api/networks/${NETWORK}/overview`)).json()) as {
      feedbackEnabled: boolean;
    };
    expect(overview.feedbackEnabled).toBe(false);
  });
});
