import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config.ts';
import { serviceDirs } from '../paths.ts';
import { probeKafka } from '../probes.ts';
import type { ServiceDefinition } from '../service.ts';
import type { KafkaSecurity } from '../../transport/security.ts';
import {
  kafkaJvmArgs,
  kafkaLog4jProperties,
  kafkaServerProperties,
  kafkaVersion,
  newClusterId,
  scramFormatArgs,
} from './config.ts';
import { ensureKafkaLibs, formatStorageOnce, requireJava } from './runtime.ts';

/**
 * Apache Kafka, KRaft mode, one combined broker+controller on 127.0.0.1.
 * With `saslUsers`, clients must authenticate (SASL PLAIN or SCRAM-SHA-256/512).
 */
export function kafkaService(
  config: Config,
  options: {
    saslUsers?: Array<{ username: string; password: string }>;
    tls?: { keystore: string; truststore: string; clientAuth?: boolean };
    /** TLS options of the readiness probe (CA, and a client certificate when clientAuth). */
    probeSsl?: KafkaSecurity['ssl'];
  } = {},
): ServiceDefinition {
  const [admin] = options.saslUsers ?? [];
  const probeSecurity: KafkaSecurity = {
    ...(admin ? { sasl: { mechanism: 'plain', username: admin.username, password: admin.password } } : {}),
    ...(options.probeSsl ? { ssl: options.probeSsl } : {}),
  };
  const dirs = serviceDirs(config.stateDir, 'kafka');
  const { kafkaPort, kafkaControllerPort } = config.services;
  const broker = `127.0.0.1:${kafkaPort}`;
  return {
    name: 'kafka',
    address: broker,
    ports: [kafkaPort, kafkaControllerPort],
    dirs,
    logFile: path.join(dirs.logs, 'server.log'),
    // The first start formats storage and creates internal topics; 2 shared cores can make that slow.
    readyTimeoutMs: 180_000,
    stopGraceMs: 45_000,
    async prepare(progress) {
      const version = kafkaVersion();
      const java = await requireJava();
      const libsDir = await ensureKafkaLibs(version, progress);
      for (const dir of [dirs.data, dirs.config, dirs.logs]) mkdirSync(dir, { recursive: true });
      const propertiesFile = path.join(dirs.config, 'server.properties');
      const log4jFile = path.join(dirs.config, 'log4j2.properties');
      writeFileSync(
        propertiesFile,
        kafkaServerProperties({
          brokerPort: kafkaPort,
          controllerPort: kafkaControllerPort,
          dataDir: dirs.data,
          saslUsers: options.saslUsers,
          tls: options.tls,
        }),
      );
      writeFileSync(log4jFile, kafkaLog4jProperties(dirs.logs));
      await formatStorageOnce({
        java,
        libsDir,
        propertiesFile,
        dataDir: dirs.data,
        clusterId: newClusterId(),
        progress,
        extraArgs: scramFormatArgs(options.saslUsers),
      });
      return {
        command: java,
        args: [...kafkaJvmArgs({ log4jFile, logDir: dirs.logs, libsDir }), 'kafka.Kafka', propertiesFile],
        cwd: dirs.root,
        outputFile: path.join(dirs.logs, 'kafka.out'),
        version,
      };
    },
    async probe(record) {
      const answer = await probeKafka(broker, 3_000, probeSecurity);
      if (!answer) return undefined;
      // The broker does not report its release over the protocol; it is the version of the jars it was started from.
      return record?.version ?? 'unknown (not started by wsn-watch)';
    },
  };
}
