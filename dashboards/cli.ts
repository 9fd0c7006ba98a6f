import type { Command } from 'commander';
import { integerArg } from '../common/cli-parsers.ts';
import { loadConfig } from '../common/config.ts';
import { serveInfluxDashboard } from './web/serve-influx.ts';

interface ServeFlags {
  host?: string;
  port?: string;
  pollMs: number;
}

/**
 * Registers `wsn-watch dashboard serve`: the built-in live dashboard over the
 * distributed deployment's InfluxDB and Alertmanager. (Embedded mode serves
 * the same dashboard over its in-memory store from the detector process.)
 */
export function registerDashboardCommands(program: Command): void {
  const dashboard = program
    .command('dashboard')
    .description('the built-in live dashboard (Grafana dashboards: dashboards/grafana, docs/dashboards.md)');

  dashboard
    .command('serve')
    .description(
      'serve the live dashboard over the results in InfluxDB (config influx.*) and the alerts in Alertmanager (alertmanager.url)',
    )
    .option(
      '--host <host>',
      'address to listen on (config dashboard.host; loopback by default, the dashboard has no authentication)',
    )
    .option('--port <port>', 'port to listen on (config dashboard.port)')
    .option('--poll-ms <ms>', 'how often to look for new results and alerts', integerArg('--poll-ms', 100), 5000)
    .action(async (flags: ServeFlags, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string }>();
      const config = loadConfig({
        file: globals.config,
        flags: { 'dashboard.host': flags.host, 'dashboard.port': flags.port },
      });
      const server = await serveInfluxDashboard(config, flags.pollMs);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await server.close();
    });
}
