import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { influxClient } from '../../../store/influx-connection.ts';

/** A stand-in InfluxDB that records each request and answers like an empty one. */
async function recorder(): Promise<{ url: string; requests: IncomingMessage[]; close: () => Promise<void> }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('influxClient credentials', () => {
  it('sends configured username and password, preferring them over userinfo in the URL, and no made-up ones without either', async () => {
    const influx = await recorder();
    try {
      const url = influx.url.replace('http://', 'http://url-user:url-pass@');
      await influxClient(url, 'wsn', { username: 'cfg-user', password: 'cfg-pass' }).getDatabaseNames();
      await influxClient(url, 'wsn').getDatabaseNames();
      await influxClient(influx.url, 'wsn').getDatabaseNames();
      const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      expect(influx.requests.map((r) => r.headers.authorization)).toEqual([
        basic('cfg-user', 'cfg-pass'),
        basic('url-user', 'url-pass'),
        undefined,
      ]);
    } finally {
      await influx.close();
    }
  });

  it('sends a token as an Authorization header', async () => {
    const influx = await recorder();
    try {
      await influxClient(influx.url, 'wsn', { token: 'tok-123' }).getDatabaseNames();
      expect(influx.requests[0].headers.authorization).toBe('Token tok-123');
    } finally {
      await influx.close();
    }
  });
});
