import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../common/errors.ts';
import { startOpsServer } from '../../../common/http.ts';

describe('ops server readiness and bind address', () => {
  it('answers /readyz 503 with the lines of what is down, 200 once nothing is', async () => {
    let problems = ['consumer wsn-ingest: crashed (connect ECONNREFUSED); rebuilding it (for 12 s)'];
    const server = await startOpsServer({
      port: 0,
      registry: new Registry(),
      ready: () => true,
      problems: () => problems,
    });
    try {
      const down = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.text()).toBe(`not ready\n${problems[0]}\n`);
      problems = [];
      const up = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect([up.status, await up.text()]).toEqual([200, 'ready\n']);
    } finally {
      await server.close();
    }
  });

  it('binds the configured address (all interfaces with 0.0.0.0)', async () => {
    const server = await startOpsServer({ port: 0, host: '0.0.0.0', registry: new Registry(), ready: () => true });
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('a port in use is a user error naming the address and the flag, not a stack trace', async () => {
    const first = await startOpsServer({ port: 0, registry: new Registry(), ready: () => true });
    try {
      const second = startOpsServer({ port: first.port, registry: new Registry(), ready: () => true });
      await expect(second).rejects.toBeInstanceOf(UserError);
      await expect(second).rejects.toMatchObject({
        code: 'PORT_IN_USE',
        message: expect.stringContaining(`127.0.0.1:${first.port}`),
        hint: expect.stringContaining('--http-port'),
      });
    } finally {
      await first.close();
    }
  });
});
