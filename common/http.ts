import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { UserError } from './errors.ts';
import type { Logger } from './log.ts';

/**
 * The small HTTP endpoint every service exposes for operations:
 * `/metrics` (Prometheus text format from a prom-client registry),
 * `/healthz` (the process is alive) and `/readyz` (200 when `ready()` says the
 * service does its work, 503 otherwise). Loopback by default; `ops.host`
 * (WSN_OPS_HOST) opens it to e.g. a Prometheus in another container.
 */
export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  ready: () => boolean;
  /**
   * What keeps the service from working right now (e.g. a Kafka consumer
   * being rebuilt); any line makes `/readyz` answer 503 with the lines, so
   * whoever probes sees why.
   */
  problems?: () => string[];
}

export interface OpsServer {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(body))
        .catch((error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)));
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const problems = options.problems?.() ?? [];
      const ready = options.ready() && problems.length === 0;
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : `not ready\n${problems.map((p) => `${p}\n`).join('')}`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
  });
  await listen(server, options.port, options.host ?? '127.0.0.1', '--http-port');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * Binds `server`; a port already taken (another service of the same kind,
 * often) or a host that cannot be bound is a user error naming the address
 * and the flag that changes it, instead of a stack trace.
 */
export async function listen(server: Server, port: number, host: string, flag: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException): void => {
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      if (error.code === 'EADDRINUSE')
        reject(
          new UserError(
            'PORT_IN_USE',
            `cannot listen on ${where}: the port is in use (another wsn-watch service, or another program)`,
            `stop that process, or choose another port with ${flag} (0 takes any free port)`,
          ),
        );
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'EACCES')
        reject(
          new UserError('CANNOT_LISTEN', `cannot listen on ${where}: ${error.message}`, `check the host and ${flag}`),
        );
      else reject(error);
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/** Wraps an extra readiness condition so that each change of its answer is logged with the reason. */
export function readinessLogger(reason: (() => string | null) | undefined, logger: Logger): () => boolean {
  let last: string | null = null;
  return () => {
    const now = reason?.() ?? null;
    if (now !== last) {
      if (now !== null) logger.warn({ reason: now }, 'not ready');
      else logger.info({ previously: last }, 'ready again');
      last = now;
    }
    return now === null;
  };
}
