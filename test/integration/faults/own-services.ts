import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../../common/config.ts';
import { kafkaService } from '../../../ops/kafka/service.ts';
import { alertmanagerService } from '../../../ops/alertmanager/service.ts';
import { influxdbService } from '../../../ops/influxdb/service.ts';
import { serviceDown, serviceUp } from '../../../ops/services.ts';
import type { ServiceDefinition } from '../../../ops/service.ts';
import { freePort } from '../../support/ports.ts';
import type { KafkaSecurity } from '../../../transport/security.ts';

/**
 * A service of the fault suite's own, on free loopback ports with its state
 * in a temporary folder: the suite stops and restarts it while the shared
 * Kafka, InfluxDB and Alertmanager (used by other suites) keep running.
 */
export interface OwnService {
  config: Config;
  def: ServiceDefinition;
  /** Where clients connect: host:port for Kafka, a URL for HTTP services. */
  address: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its state folder. */
  remove(): Promise<void>;
}

const progress = (message: string): void => {
  process.stderr.write(`[fault suite] ${message}\n`);
};

interface OwnOptions {
  /** InfluxDB: require credentials. */
  auth?: boolean;
  /** InfluxDB: its limit of distinct values per tag (default none). */
  maxValuesPerTag?: number;
  /** Kafka: SASL users (PLAIN and SCRAM); the first is the admin the readiness probe uses. */
  saslUsers?: Array<{ username: string; password: string }>;
  /** Kafka: TLS on the client listener, and the probe's TLS options. */
  tls?: { keystore: string; truststore: string; clientAuth?: boolean };
  probeSsl?: KafkaSecurity['ssl'];
}

async function own(kind: 'kafka' | 'alertmanager' | 'influxdb', options: OwnOptions = {}): Promise<OwnService> {
  const stateDir = mkdtempSync(path.join(tmpdir(), `wsn-fault-${kind}-`));
  const env = {
    WSN_STATE_DIR: stateDir,
    WSN_KAFKA_PORT: String(await freePort()),
    WSN_KAFKA_CONTROLLER_PORT: String(await freePort()),
    WSN_ALERTMANAGER_PORT: String(await freePort()),
    // influxd also binds the port 2 above its HTTP port (checked free when it starts).
    WSN_INFLUX_PORT: String(await freePort()),
  };
  const config = loadConfig({ env });
  const def =
    kind === 'kafka'
      ? kafkaService(config, options)
      : kind === 'influxdb'
        ? influxdbService(config, options)
        : alertmanagerService(config);
  const address = kind === 'kafka' ? def.address : `http://${def.address}`;
  return {
    config,
    def,
    address,
    start: async () => {
      await serviceUp(def, progress);
    },
    stop: () => serviceDown(def, progress),
    remove: async () => {
      await serviceDown(def, progress);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export const ownKafka = (options: Pick<OwnOptions, 'saslUsers' | 'tls' | 'probeSsl'> = {}): Promise<OwnService> =>
  own('kafka', options);
export const ownAlertmanager = (): Promise<OwnService> => own('alertmanager');
/** With `auth`, the instance requires credentials (create its admin with createInfluxAdmin). */
export const ownInfluxdb = (options: Pick<OwnOptions, 'auth' | 'maxValuesPerTag'> = {}): Promise<OwnService> =>
  own('influxdb', options);
