import { describe, it, expect } from 'vitest';
import { Registry, Counter } from 'prom-client';
import { startOpsServer } from '../../../common/http.ts';

describe('startOpsServer', () => {
  it('serves metrics, liveness and readiness that follows ready()', async () => {
    const registry = new Registry();
    new Counter({ name: 'wsn_test_total', help: 'test', registers: [registry] }).inc(3);
    let ready = false;
    const server = await startOpsServer({ port: 0, registry, ready: () => ready });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('wsn_test_total 3');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
