import type { Config } from '../../common/config.ts';
import { createLogger, redactUrl } from '../../common/log.ts';
import { InfluxDashboardResults } from '../../store/influx-results.ts';
import { serveDashboard, type DashboardServer } from './server.ts';
import { storedModelThreshold } from './model-threshold.ts';

/**
 * The distributed deployment's dashboard: the live page over the results in
 * InfluxDB and the alerts in Alertmanager, coloured at the detector's
 * threshold in force (the configured one, else the one stored with the model).
 * Prints where it serves and what it reads; resolves with the running server.
 */
export async function serveInfluxDashboard(config: Config, pollMs: number): Promise<DashboardServer> {
  const logger = createLogger('dashboard');
  const results = new InfluxDashboardResults({
    url: config.influx.url,
    database: config.influx.database,
    auth: config.influx,
    alertmanagerUrl: config.alertmanager.url,
    pollMs,
    logger,
  });
  const configured = config.detector.threshold;
  const stored = configured === undefined ? await storedModelThreshold(config.detector.model) : undefined;
  const threshold = configured ?? stored;
  const thresholdFrom =
    configured !== undefined
      ? 'detector.threshold'
      : stored !== undefined
        ? `stored with the model ${config.detector.model}`
        : `no threshold configured and none stored with ${config.detector.model}`;
  const server = await serveDashboard({
    store: results,
    topology: results,
    host: config.dashboard.host,
    port: config.dashboard.port,
    threshold,
    logger,
  });
  process.stderr.write(
    `dashboard: colouring probabilities at ${threshold ?? 'the default threshold'} (${thresholdFrom})\n`,
  );
  process.stderr.write(
    `dashboard: serving ${server.url} (results from ${redactUrl(config.influx.url)} database ${config.influx.database}); Ctrl-C stops it\n`,
  );
  return server;
}
