import type { Command } from 'commander';
import { loadConfig, type Config } from '../common/config.ts';
import { formatStatusTable } from './format.ts';
import type { Progress } from './service.ts';
import {
  servicesDown,
  servicesStatus,
  servicesUp,
  type DownOptions,
  type SecureOptions,
  type ServiceState,
} from './services.ts';

/** What the `services` subcommands do; injectable so argument parsing is testable without starting anything. */
export interface ServicesActions {
  up(config: Config, progress: Progress, options?: SecureOptions): Promise<ServiceState[]>;
  down(config: Config, options: DownOptions, progress: Progress): Promise<void>;
  status(config: Config, options?: SecureOptions): Promise<ServiceState[]>;
}

const defaultActions: ServicesActions = { up: servicesUp, down: servicesDown, status: servicesStatus };

export interface ServicesIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: ServicesIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

/**
 * Registers `wsn-watch services up|down|status`: the local Kafka, InfluxDB and
 * Alertmanager, bound to 127.0.0.1, with all state under `<stateDir>/services`.
 */
export function registerServicesCommands(
  program: Command,
  actions: ServicesActions = defaultActions,
  io: ServicesIo = defaultIo,
): void {
  const progress: Progress = (message) => io.stderr(`services: ${message}\n`);
  const configOf = (command: Command): Config => {
    const globals = command.optsWithGlobals<{ config?: string }>();
    return loadConfig({ file: globals.config, env: io.env });
  };

  const services = program
    .command('services')
    .description(
      'run the local Kafka (KRaft), InfluxDB and Alertmanager on 127.0.0.1, state under <stateDir>/services',
    );

  services
    .command('up')
    .description('provision and start every service (idempotent), wait until each answers')
    .option(
      '--secure',
      'Kafka with SASL_SSL and client certificates (a private CA in <stateDir>/services/tls), InfluxDB with auth; credentials from kafka.sasl and influx.username/password',
      false,
    )
    .action(async (options: { secure: boolean }, command: Command) => {
      const states = await actions.up(configOf(command), progress, options.secure ? { secure: true } : undefined);
      io.stdout(formatStatusTable(states));
      io.stderr('services: all up; they keep running after this command. Stop them with `wsn-watch services down`.\n');
    });

  services
    .command('down')
    .description('stop the services started from this state folder (SIGTERM, then SIGKILL after a grace period)')
    .option('--purge', 'also delete all their state: data, config and logs under <stateDir>/services', false)
    .action(async (options: { purge: boolean }, command: Command) => {
      await actions.down(configOf(command), { purge: options.purge }, progress);
    });

  services
    .command('status')
    .description('show each service: up/down, version, address, pid, log file (exit code 1 unless all are up)')
    .option('--json', 'print JSON instead of a table', false)
    .option('--secure', 'probe services started with `up --secure`', false)
    .action(async (options: { json: boolean; secure: boolean }, command: Command) => {
      const states = await actions.status(configOf(command), options.secure ? { secure: true } : undefined);
      io.stdout(options.json ? `${JSON.stringify(states, null, 2)}\n` : formatStatusTable(states));
      if (states.some((s) => s.state !== 'up')) process.exitCode = 1;
    });
}
