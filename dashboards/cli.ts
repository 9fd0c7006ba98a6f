import type { Command } from 'commander';
import { loadConfig } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { createLogger, redactUrl } from '../common/log.ts';
import { InfluxDashboardResults } from './web/influx-results.ts';
import { serveDashboard } from './web/server.ts';
import { storedModelThreshold } from './web/model-threshold.ts';

interface ServeFlags {
  host?: string;
  port?: string;
  pollMs: string;
}

/**
 * Registers `wsn-watch dashboard serve`: the built-in live dashboard over the
 * distributed deployment's InfluxDB and Alertmanager. (Embedded mode serves
 * the same dashboard over its in-memory store from the detector process.)
 */
export function registerDashboardCommands(program: Command): void {
  const dashboard = program.command('dashboard').description('the built-in live dashboard (Grafana dashboards: dashboards/grafana, docs/dashboards.md)');

  dashboard
    .command('serve')
    .description('serve the live dashboard over the results in InfluxDB (config influx.*) and the alerts in Alertmanager (alertmanager.url)')
    .option('--host <host>', 'address to listen on (config dashboard.host; loopback by default, the dashboard has no authentication)')
    .option('--port <port>', 'port to listen on (config dashboard.port)')
    .option('--poll-ms <ms>', 'how often to look for new results and alerts', '5000')
    .action(async (flags: ServeFlags, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string }>();
      const config = loadConfig({ file: globals.config, flags: { 'dashboard.host': flags.host, 'dashboard.port': flags.port } });
      const pollMs = Number(flags.pollMs);
      if (!Number.isInteger(pollMs) || pollMs < 100) {
        throw new UserError('DASHBOARD_POLL_INVALID', `--poll-ms must be an integer of at least 100, got "${flags.pollMs}"`, 'pass e.g. --poll-ms 5000');
      }
      const logger = createLogger('dashboard');
      const results = new InfluxDashboardResults({
        url: config.influx.url,
        database: config.influx.database,
        auth: config.influx,
        alertmanagerUrl: config.alertmanager.url,
        pollMs,
        logger,
      });
      // The detector's threshold in force: the configured one, else the one stored with the model.
      const stored = config.detector.threshold === undefined ? await storedModelThreshold(config.detector.model) : undefined;
      const threshold = config.detector.threshold ?? stored;
      const thresholdFrom = config.detector.threshold !== undefined ? 'detector.threshold' : stored !== undefined ? `stored with the model ${config.detector.model}` : `no threshold configured and none stored with ${config.detector.model}`;
      const server = await serveDashboard({
        store: results,
        topology: results,
        host: config.dashboard.host,
        port: config.dashboard.port,
        threshold,
        logger,
      });
      process.stderr.write(`dashboard: colouring probabilities at ${threshold ?? 'the default threshold'} (${thresholdFrom})\n`);
      process.stderr.write(`dashboard: serving ${server.url} (results from ${redactUrl(config.influx.url)} database ${config.influx.database}); Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}
