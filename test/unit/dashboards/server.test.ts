import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../common/errors.ts';
import { request } from 'node:http';
import { MemoryResultStore } from '../../../store/memory.ts';
import { serveDashboard, startDashboardServer, type DashboardServer } from '../../../dashboards/web/server.ts';
import { staticTopology } from '../../../store/results.ts';
import { gridLayout } from '../../../dashboards/web/fallback-layout.ts';
import { LAB_TOPOLOGY, NETWORK, labBatch } from '../../integration/dashboards/lab-network.ts';

/** Reads an SSE stream until `until` matches the text received so far. */
function readEvents(url: string, until: RegExp, onOpen: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text === '') onOpen();
        text += chunk;
        if (until.test(text)) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard server', () => {
  let store: MemoryResultStore;
  let server: DashboardServer;

  beforeAll(async () => {
    store = new MemoryResultStore();
    for (let i = 0; i < 10; i++) await store.write(labBatch(i, 8));
    await store.write({
      ...labBatch(0),
      frames: [],
      scores: labBatch(0).scores.map((s) => ({ ...s, network: 'annex' })),
      alerts: [],
    });
    server = await startDashboardServer({
      store,
      topology: staticTopology([LAB_TOPOLOGY]),
      port: 0,
      threshold: 0.6,
      heartbeatMs: 60_000,
    });
  });
  afterAll(async () => server.close());

  it('listens on loopback by default', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('says which address is taken and what to do when the port is in use', async () => {
    const port = Number(new URL(server.url).port);
    const failure = await serveDashboard({ store, topology: staticTopology([LAB_TOPOLOGY]), port }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(UserError);
    expect((failure as UserError).code).toBe('DASHBOARD_LISTEN_FAILED');
    expect((failure as UserError).message).toBe(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    expect((failure as UserError).hint).toContain('--port');
  });

  it('refuses every method but GET and HEAD with 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${server.url}/api/networks`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(((await res.json()) as { error: string }).error).toContain('read-only');
    }
    expect((await fetch(`${server.url}/`, { method: 'HEAD' })).status).toBe(200);
  });

  it('serves the page for / and for node links, and only the listed static files', async () => {
    for (const route of ['/', `/node/${NETWORK}/7`]) {
      const res = await fetch(server.url + route);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('<svg id="map"');
    }
    expect((await fetch(`${server.url}/static/app.js`)).headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${server.url}/static/server.ts`)).status).toBe(404);
    expect((await fetch(`${server.url}/static/..%2Fserver.ts`)).status).toBe(404);
  });

  it('lists networks with a topology and networks that only have results', async () => {
    const body = (await (await fetch(`${server.url}/api/networks`)).json()) as { networks: string[] };
    expect(body.networks).toEqual(['annex', NETWORK]);
  });

  it('returns the overview: topology, latest cluster scores, alerts and the threshold', async () => {
    const body = (await (await fetch(`${server.url}/api/networks/${NETWORK}/overview`)).json()) as {
      threshold: number;
      topology: { nodes: unknown[] };
      clusters: Array<{ cluster: string; tick: number }>;
      alerts: Array<{ node: string; status: string }>;
    };
    expect(body.threshold).toBe(0.6);
    expect(body.topology.nodes).toHaveLength(12);
    expect(body.clusters.map((c) => c.cluster)).toEqual(['c1', 'c2', 'c3']);
    expect(new Set(body.clusters.map((c) => c.tick)).size).toBe(1);
    expect(body.alerts).toEqual([expect.objectContaining({ node: '7', status: 'firing' })]);
  });

  it('lays out a network without a topology on a grid per cluster', async () => {
    const body = (await (await fetch(`${server.url}/api/networks/annex/overview`)).json()) as {
      topology: { nodes: Array<{ node: string; x: number }> };
    };
    expect(body.topology.nodes).toHaveLength(12);
    const layout = gridLayout('annex', labBatch(0).scores);
    expect(body.topology.nodes).toEqual(layout.nodes);
    // Clusters do not share columns.
    const columns = (cluster: string) => new Set(layout.nodes.filter((n) => n.cluster === cluster).map((n) => n.x));
    expect([...columns('c1')].some((x) => columns('c2').has(x))).toBe(false);
  });

  it('returns a node history with values and reconstruction, honouring limit', async () => {
    const res = await fetch(`${server.url}/api/networks/${NETWORK}/nodes/7/history?limit=4`);
    const body = (await res.json()) as {
      cluster: string;
      samples: Array<{ tick: number; values: Record<string, number>; reconstruction: Record<string, number> }>;
    };
    expect(body.cluster).toBe('c2');
    expect(body.samples).toHaveLength(4);
    expect(body.samples[3].tick).toBeGreaterThan(body.samples[0].tick);
    expect(Object.keys(body.samples[3].reconstruction).sort()).toEqual(['humidity', 'light', 'temperature', 'voltage']);
    expect(body.samples[3].values.temperature - body.samples[3].reconstruction.temperature).toBeGreaterThan(1);
  });

  it('answers bad requests with a status and a message that says what was wrong', async () => {
    const cases: Array<[string, number, string]> = [
      [`/api/networks/${NETWORK}/nodes/7/history?limit=0`, 400, 'limit must be an integer'],
      [`/api/networks/${NETWORK}/nodes/99/history`, 404, 'unknown node "99"'],
      ['/api/networks/nowhere/overview', 404, 'unknown network "nowhere"'],
      ['/api/networks/%E0%A4%A/overview', 400, 'malformed percent-encoding'],
      ['/nothing/here', 404, 'no route for /nothing/here'],
    ];
    for (const [route, status, message] of cases) {
      const res = await fetch(server.url + route);
      expect(res.status, route).toBe(status);
      expect(((await res.json()) as { error: string }).error).toContain(message);
    }
  });

  it('pushes a change event over SSE when the store receives a batch', async () => {
    const text = await readEvents(`${server.url}/events`, /event: change\ndata: .*\n\n/, () => {
      void store.write(labBatch(10, 8));
    });
    expect(text).toContain('event: hello\ndata: {"threshold":0.6}');
    const change = JSON.parse(/event: change\ndata: (.*)\n/.exec(text)![1]) as { kind: string; network: string };
    expect(change).toEqual({ kind: 'scores', network: NETWORK });
  });
});
