/**
 * The built-in live dashboard: a read-only HTTP server over a DashboardStore.
 * Static page + JSON API + Server-Sent Events; node:http only, no framework,
 * because the whole surface is a handful of GET routes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { UserError } from '../../common/errors.ts';
import { listen } from '../../common/http.ts';
import { createLogger, type Logger } from '../../common/log.ts';
import { DEFAULT_ALERT_THRESHOLD } from '../../common/thresholds.ts';
import type { DashboardResults, ResultChangeNotice, TopologySource, TopologyView } from '../../store/results.ts';
import { gridLayout } from './fallback-layout.ts';
import { EndpointError as HttpError, handleFeedback, type FeedbackEndpointOptions } from './feedback-endpoint.ts';

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** The only files served from public/, with their content types (nothing else is reachable). */
const STATIC_FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'map.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
  'referrer-policy': 'no-referrer',
};

export interface DashboardServerOptions {
  /** The detector's results (embedded mode: the MemoryResultStore). */
  store: DashboardResults;
  /** Node positions and clusters; without it (or for an unknown network) nodes are laid out on a grid per cluster. */
  topology?: TopologySource;
  /** Loopback by default: the dashboard has no authentication. */
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  /**
   * Where the probability colours turn red and the charts draw their threshold line: the threshold the
   * detector runs with, when known. Whether a node or tick is anomalous is the detector's own verdict
   * (isAnomaly), not a comparison with this.
   */
  threshold?: number;
  /** How many samples the drill-down charts show. */
  historyLimit?: number;
  /** The feedback endpoint (POST /api/feedback, bearer token) and the alert list's buttons; absent = off. */
  feedback?: FeedbackEndpointOptions;
  /** Interval of SSE comment lines that keep proxies from closing idle streams. */
  heartbeatMs?: number;
  logger?: Logger;
}

export interface DashboardServer {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in path segment "${segment}"`);
  }
}

function parseLimit(raw: string | null, fallback: number): number {
  if (raw === null) return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new HttpError(400, `query parameter limit must be an integer from 1 to 10000, got "${raw}"`);
  }
  return limit;
}

/**
 * startDashboardServer for commands: a port that is taken or not allowed
 * becomes an error that names the address and says what to do.
 */
export async function serveDashboard(options: DashboardServerOptions): Promise<DashboardServer> {
  try {
    return await startDashboardServer(options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const address = `${options.host ?? '127.0.0.1'}:${options.port ?? 0}`;
      throw new UserError(
        'DASHBOARD_LISTEN_FAILED',
        `cannot listen on ${address}: ${code}`,
        'pick another port with --port (0 = any free port) or WSN_DASHBOARD_PORT',
      );
    }
    throw error;
  }
}

/**
 * The dashboard's request handling: the page, its static files, the JSON API
 * and the server-sent change stream, over one result store.
 */
class DashboardApp {
  readonly streams = new Set<ServerResponse>();
  private readonly threshold: number;
  private readonly historyLimit: number;

  constructor(
    private readonly options: DashboardServerOptions,
    private readonly indexHtml: Buffer,
    private readonly log: Logger,
  ) {
    this.threshold = options.threshold ?? DEFAULT_ALERT_THRESHOLD;
    this.historyLimit = options.historyLimit ?? 120;
  }

  /** Tells every open stream that results changed. */
  broadcast(change: ResultChangeNotice): void {
    const frame = `event: change\ndata: ${JSON.stringify({ kind: change.kind, network: change.network })}\n\n`;
    for (const stream of this.streams) stream.write(frame);
  }

  keepAlive(): void {
    for (const stream of this.streams) stream.write(': keep-alive\n\n');
  }

  async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (req.method === 'POST' && url.pathname === '/api/feedback') return this.markFeedback(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, {
        ...SECURITY_HEADERS,
        allow: 'GET, HEAD',
        'content-type': 'application/json; charset=utf-8',
      });
      res.end(
        JSON.stringify({
          error: `method ${req.method} not allowed: the dashboard is read-only (GET, HEAD) but for POST /api/feedback`,
        }),
      );
      return;
    }
    const parts = url.pathname.split('/').filter(Boolean).map(decodeSegment);
    if (parts.length === 0) return this.servePage(res);
    if (parts[0] === 'node' && parts.length === 3) return this.servePage(res);
    if (parts[0] === 'static' && parts.length === 2) return this.serveStatic(res, parts[1]);
    if (parts[0] === 'events' && parts.length === 1) return this.openStream(req, res);
    if (parts[0] === 'api' && (await this.routeApi(res, parts, url))) return;
    throw new HttpError(404, `no route for ${url.pathname}`);
  }

  /** Answers an /api/... request; false when no API route matches. */
  private async routeApi(res: ServerResponse, parts: string[], url: URL): Promise<boolean> {
    const { store } = this.options;
    const threshold = this.threshold;
    const [, resource, network, sub, node, leaf] = parts;
    if (resource === 'networks' && parts.length === 2) {
      sendJson(res, 200, { networks: await this.listNetworks() });
    } else if (resource === 'alerts' && parts.length === 2) {
      sendJson(res, 200, { alerts: await store.alerts(url.searchParams.get('network') ?? undefined) });
    } else if (resource === 'networks' && parts.length === 4 && sub === 'overview') {
      const topology = await this.topologyOf(network);
      const [clusters, alerts, silences, feedback] = await Promise.all([
        store.latestScores(network),
        store.alerts(network),
        store.silences?.(network) ?? [],
        store.feedback?.(network) ?? [],
      ]);
      const feedbackEnabled = this.options.feedback !== undefined;
      sendJson(res, 200, { network, threshold, topology, clusters, alerts, silences, feedback, feedbackEnabled });
    } else if (resource === 'networks' && parts.length === 6 && sub === 'nodes' && leaf === 'history') {
      const topology = await this.topologyOf(network);
      const placement = topology.nodes.find((n) => n.node === node);
      if (!placement) throw new HttpError(404, `unknown node "${node}" in network "${network}"`);
      const limit = parseLimit(url.searchParams.get('limit'), this.historyLimit);
      const samples = await store.nodeHistory(network, node, limit);
      sendJson(res, 200, { network, node, cluster: placement.cluster, threshold, samples });
    } else {
      return false;
    }
    return true;
  }

  /** POST /api/feedback: marks an alert on the dashboard (or known to the configured lookup) false or true. */
  private async markFeedback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { feedback, store } = this.options;
    if (!feedback)
      throw new HttpError(
        404,
        'the feedback endpoint is off: start the dashboard with feedback.token (WSN_FEEDBACK_TOKEN) set',
      );
    const onDashboard = {
      where: "the dashboard's alerts",
      find: async (id: string) => (await store.alerts(id.split('/')[0])).find((alert) => alert.id === id),
    };
    const outcome = await handleFeedback(req, feedback, onDashboard, this.log);
    sendJson(res, 200, outcome);
    this.broadcast({ kind: 'feedback', network: outcome.feedback.network });
  }

  private async listNetworks(): Promise<string[]> {
    const [withResults, withTopology] = await Promise.all([
      this.options.store.networks(),
      this.options.topology?.networks() ?? [],
    ]);
    return [...new Set([...withTopology, ...withResults])].sort();
  }

  private async topologyOf(network: string): Promise<TopologyView> {
    const known = await this.options.topology?.topology(network);
    if (known) return known;
    const scores = await this.options.store.latestScores(network);
    if (scores.length === 0)
      throw new HttpError(404, `unknown network "${network}": no topology and no results for it`);
    return gridLayout(network, scores);
  }

  private async serveStatic(res: ServerResponse, name: string): Promise<void> {
    const type = STATIC_FILES[name];
    if (!type) throw new HttpError(404, `no static file ${name}`);
    const body = await readFile(path.join(PUBLIC_DIR, name));
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': type,
      'cache-control': 'no-cache',
      'content-length': body.length,
    });
    res.end(body);
  }

  private servePage(res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-length': this.indexHtml.length,
    });
    res.end(this.indexHtml);
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // Tells the browser how long to wait before reconnecting, then confirms the stream is open.
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ threshold: this.threshold })}\n\n`);
    this.streams.add(res);
    req.on('close', () => this.streams.delete(res));
  }
}

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.logger ?? createLogger('dashboard');
  const app = new DashboardApp(options, await readFile(path.join(PUBLIC_DIR, 'index.html')), log);
  const unsubscribe = options.store.subscribe((change) => app.broadcast(change));
  const heartbeat = setInterval(() => app.keepAlive(), options.heartbeatMs ?? 15_000);
  heartbeat.unref();

  const server = createServer((req, res) => {
    app.route(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) log.error({ err: error, url: req.url }, 'dashboard request failed');
      const message = error instanceof HttpError ? error.message : 'internal error; see the service log';
      if (!res.headersSent) sendJson(res, status, { error: message });
      else res.end();
    });
  });
  await listen(server, options.port ?? 8080, host, '--port');
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url }, 'dashboard listening');

  return {
    url,
    port,
    async close() {
      unsubscribe();
      clearInterval(heartbeat);
      for (const stream of app.streams) stream.end();
      app.streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
