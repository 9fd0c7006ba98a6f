import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { alertmanagerService } from './alertmanager/service.ts';
import { createInfluxAdmin, influxdbService } from './influxdb/service.ts';
import { ensureTlsMaterial, tlsMaterialPaths } from './tls.ts';
import { kafkaService } from './kafka/service.ts';
import { isPortOpen } from './net.ts';
import { displayPath, servicesRoot, type ServiceName } from './paths.ts';
import {
  isRunning,
  readRunRecord,
  removeRunRecord,
  spawnDetached,
  stopProcess,
  writeRunRecord,
  type RunRecord,
} from './process.ts';
import type { Progress, ServiceDefinition } from './service.ts';

/**
 * `up`: started by us and answering. `starting`: our process is alive but
 * does not answer yet. `foreign`: something answers on the port but was not
 * started from this state folder. `down`: nothing answers.
 */
export type ServiceStateName = 'up' | 'starting' | 'foreign' | 'down';

export interface ServiceState {
  name: ServiceName;
  state: ServiceStateName;
  address: string;
  version?: string;
  pid?: number;
  logFile: string;
}

/** Which environment variables move a service's ports (named in "port in use" hints). */
const PORT_ENV: Record<ServiceName, string> = {
  kafka: 'WSN_KAFKA_PORT / WSN_KAFKA_CONTROLLER_PORT',
  influxdb: 'WSN_INFLUX_PORT',
  alertmanager: 'WSN_ALERTMANAGER_PORT',
};

/** `--secure`: Kafka with SASL_SSL and client certificates, InfluxDB with auth. */
export interface SecureOptions {
  secure?: boolean;
}

/** The TLS material of the secure services: `<stateDir>/services/tls`. */
export function secureTlsDir(config: Config): string {
  return path.join(servicesRoot(config.stateDir), 'tls');
}

/** The credentials the secure services are started with; a UserError naming what is missing. */
function secureCredentials(config: Config): {
  kafka: { username: string; password: string };
  influx: { username: string; password: string };
} {
  const missing = [
    config.kafka.sasl
      ? undefined
      : 'kafka.sasl (WSN_KAFKA_SASL_MECHANISM, WSN_KAFKA_SASL_USERNAME, WSN_KAFKA_SASL_PASSWORD)',
    config.influx.username && config.influx.password
      ? undefined
      : 'influx.username and influx.password (WSN_INFLUX_USERNAME, WSN_INFLUX_PASSWORD)',
  ].filter((item): item is string => item !== undefined);
  if (missing.length > 0 || !config.kafka.sasl || !config.influx.username || !config.influx.password) {
    throw new UserError(
      'SECURE_SETTINGS_MISSING',
      `services up --secure needs ${missing.join(' and ')}`,
      'set them (docs/reliability.md#secure-local-services); no default passwords are made up',
    );
  }
  return {
    kafka: { username: config.kafka.sasl.username, password: config.kafka.sasl.password },
    influx: { username: config.influx.username, password: config.influx.password },
  };
}

export function serviceDefinitions(config: Config, options: SecureOptions = {}): ServiceDefinition[] {
  if (!options.secure) return [kafkaService(config), influxdbService(config), alertmanagerService(config)];
  const { kafka } = secureCredentials(config);
  const tls = tlsMaterialPaths(secureTlsDir(config));
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  return [
    kafkaService(config, {
      saslUsers: [kafka],
      tls: { keystore: tls.serverPem, truststore: tls.ca, clientAuth: true },
      probeSsl: { ca: [read(tls.ca)], cert: read(tls.clientCert), key: read(tls.clientKey) },
    }),
    influxdbService(config, { auth: true }),
    alertmanagerService(config),
  ];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ownRecord(def: ServiceDefinition): RunRecord | undefined {
  const record = readRunRecord(def.dirs.runFile);
  return record && isRunning(record.pid, def.dirs.config) ? record : undefined;
}

function fileTail(file: string, lines = 12): string {
  if (!existsSync(file)) return '(no log written)';
  const text = readFileSync(file, 'utf8').trimEnd();
  return text ? text.split('\n').slice(-lines).join('\n') : '(log is empty)';
}

async function inspect(def: ServiceDefinition): Promise<ServiceState> {
  const record = ownRecord(def);
  const version = await def.probe(record);
  const base = { name: def.name, address: def.address, logFile: def.logFile, pid: record?.pid };
  if (version !== undefined) return { ...base, state: record ? 'up' : 'foreign', version };
  return { ...base, state: record ? 'starting' : 'down' };
}

/** Polls the health check until it answers, the process dies, or the start-up timeout passes. */
async function waitUntilReady(def: ServiceDefinition, record: RunRecord, progress: Progress): Promise<ServiceState> {
  const started = Date.now();
  let nextNotice = started + 10_000;
  let interval = 250;
  for (;;) {
    const version = await def.probe(record);
    if (version !== undefined) {
      return { name: def.name, state: 'up', address: def.address, version, pid: record.pid, logFile: def.logFile };
    }
    if (!isRunning(record.pid)) {
      removeRunRecord(def.dirs.runFile);
      const output =
        record.outputFile !== def.logFile
          ? `\n--- ${displayPath(record.outputFile)}:\n${fileTail(record.outputFile, 6)}`
          : '';
      throw new UserError(
        'SERVICE_START_FAILED',
        `${def.name} exited during start-up; last lines of ${displayPath(def.logFile)}:\n${fileTail(def.logFile)}${output}`,
        'read the log above; `wsn-watch services down --purge` removes the state if it is corrupt',
      );
    }
    const waited = Date.now() - started;
    if (waited > def.readyTimeoutMs) {
      throw new UserError(
        'SERVICE_NOT_READY',
        `${def.name} (pid ${record.pid}) did not answer on ${def.address} within ${Math.round(def.readyTimeoutMs / 1000)} s`,
        `read ${displayPath(def.logFile)}; run \`wsn-watch services up\` again to keep waiting, or \`services down\` to stop it`,
      );
    }
    if (Date.now() >= nextNotice) {
      progress(`${def.name}: waiting for ${def.address} to answer (${Math.round(waited / 1000)} s)`);
      nextNotice += 10_000;
    }
    await sleep(interval);
    interval = Math.min(interval * 1.5, 2_000);
  }
}

async function bringUp(def: ServiceDefinition, progress: Progress): Promise<ServiceState> {
  const running = ownRecord(def);
  if (running) {
    progress(`${def.name}: already running (pid ${running.pid})`);
    return waitUntilReady(def, running, progress);
  }
  removeRunRecord(def.dirs.runFile); // stale: that process is gone
  for (const port of def.ports) {
    if (await isPortOpen('127.0.0.1', port)) {
      throw new UserError(
        'PORT_IN_USE',
        `${def.name}: port ${port} on 127.0.0.1 is in use by a process wsn-watch did not start from ${displayPath(def.dirs.root)}`,
        `stop that process (\`wsn-watch services down\` in the clone that started it), or choose other ports with ${PORT_ENV[def.name]}`,
      );
    }
  }
  const launch = await def.prepare(progress);
  progress(
    `${def.name}: starting on ${def.address}${launch.version === 'unknown' ? '' : ` (version ${launch.version})`}`,
  );
  const pid = await spawnDetached(launch);
  const record: RunRecord = {
    pid,
    version: launch.version,
    startedAt: new Date().toISOString(),
    marker: def.dirs.config,
    logFile: def.logFile,
    outputFile: launch.outputFile,
  };
  writeRunRecord(def.dirs.runFile, record);
  const state = await waitUntilReady(def, record, progress);
  progress(`${def.name}: up after ${((Date.now() - Date.parse(record.startedAt)) / 1000).toFixed(1)} s`);
  return state;
}

/** All failures of a parallel start in one error, so a user fixes everything in one go. */
function combineFailures(failures: unknown[]): Error {
  if (failures.length === 1) return failures[0] instanceof Error ? failures[0] : new Error(String(failures[0]));
  const userErrors = failures.filter((f): f is UserError => f instanceof UserError);
  if (userErrors.length !== failures.length) return failures.find((f) => !(f instanceof UserError)) as Error;
  return new UserError(
    userErrors[0].code,
    userErrors.map((e) => e.message).join('\n'),
    [...new Set(userErrors.map((e) => e.hint).filter(Boolean))].join('; '),
  );
}

/**
 * Provisions and starts every service (in parallel) and waits until each
 * answers. Services already running from this state folder are kept.
 */
export async function servicesUp(
  config: Config,
  progress: Progress,
  options: SecureOptions = {},
): Promise<ServiceState[]> {
  // The certificates exist before the definitions read them (the readiness probe needs them).
  if (options.secure) {
    secureCredentials(config);
    ensureTlsMaterial(secureTlsDir(config), progress);
  }
  const results = await Promise.allSettled(serviceDefinitions(config, options).map((def) => bringUp(def, progress)));
  const failures = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as unknown);
  if (failures.length > 0) throw combineFailures(failures);
  if (options.secure) {
    const { influx } = secureCredentials(config);
    await createInfluxAdmin(`http://127.0.0.1:${config.services.influxPort}`, influx.username, influx.password);
    const tls = tlsMaterialPaths(secureTlsDir(config));
    progress(
      `secure: Kafka takes SASL_SSL with client certificates; clients need kafka.sasl and "kafka": {"ssl": {"ca": "${tls.ca}", "cert": "${tls.clientCert}", "key": "${tls.clientKey}"}} in their config file; InfluxDB requires influx.username/password`,
    );
  }
  return results.map((r) => (r as PromiseFulfilledResult<ServiceState>).value);
}

export async function servicesStatus(config: Config, options: SecureOptions = {}): Promise<ServiceState[]> {
  return Promise.all(serviceDefinitions(config, options).map(inspect));
}

export interface DownOptions {
  /** Also delete `<stateDir>/services` (data, config, logs of every service). */
  purge: boolean;
}

/** Stops the services started from this state folder: SIGTERM, SIGKILL after each one's grace period. */
export async function servicesDown(config: Config, options: DownOptions, progress: Progress): Promise<void> {
  await Promise.all(
    serviceDefinitions(config).map(async (def) => {
      const record = ownRecord(def);
      if (!record) {
        progress(`${def.name}: not running`);
      } else {
        progress(`${def.name}: stopping pid ${record.pid}`);
        const { outcome } = await stopProcess(record.pid, def.stopGraceMs, def.dirs.config);
        progress(
          `${def.name}: ${outcome === 'killed' ? `killed (no exit within ${def.stopGraceMs / 1000} s of SIGTERM)` : 'stopped'}`,
        );
      }
      removeRunRecord(def.dirs.runFile);
    }),
  );
  if (options.purge) {
    const root = servicesRoot(config.stateDir);
    rmSync(root, { recursive: true, force: true });
    progress(`removed ${displayPath(root)} (all service data, config and logs)`);
  }
}

/**
 * Starts one service and waits until it answers (already running from its
 * state folder: kept). Fault tests start their own instance on other ports
 * this way, to stop and restart it without touching the shared services.
 */
export function serviceUp(def: ServiceDefinition, progress: Progress): Promise<ServiceState> {
  return bringUp(def, progress);
}

/** Stops one service started from its state folder (SIGTERM, SIGKILL after its grace period). */
export async function serviceDown(def: ServiceDefinition, progress: Progress): Promise<void> {
  const record = ownRecord(def);
  if (record) {
    const { outcome } = await stopProcess(record.pid, def.stopGraceMs, def.dirs.config);
    progress(`${def.name}: ${outcome}`);
  }
  removeRunRecord(def.dirs.runFile);
}
