import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../common/config.ts';
import { requireExecutable } from '../executables.ts';
import { serviceDirs } from '../paths.ts';
import { probeAlertmanager } from '../probes.ts';
import type { ServiceDefinition } from '../service.ts';

/** The routing file shared with docker-compose.yml. */
export const alertmanagerConfigFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'alertmanager.yml');

/**
 * Command-line flags of a local Alertmanager: loopback only, storage in the
 * state folder, and no cluster gossip (`--cluster.listen-address=` empty turns
 * it off; a single instance has no peers and would otherwise bind 9094).
 */
export function alertmanagerArgs(options: { configFile: string; storageDir: string; port: number }): string[] {
  return [
    `--config.file=${options.configFile}`,
    `--storage.path=${options.storageDir}`,
    `--web.listen-address=127.0.0.1:${options.port}`,
    `--web.external-url=http://127.0.0.1:${options.port}/`,
    '--cluster.listen-address=',
    '--log.level=info',
  ];
}

/** Prometheus Alertmanager (Debian's `prometheus-alertmanager` package), run directly. */
export function alertmanagerService(config: Config): ServiceDefinition {
  const dirs = serviceDirs(config.stateDir, 'alertmanager');
  const port = config.services.alertmanagerPort;
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dirs.logs, 'alertmanager.log');
  return {
    name: 'alertmanager',
    address: `127.0.0.1:${port}`,
    ports: [port],
    dirs,
    logFile,
    readyTimeoutMs: 60_000,
    stopGraceMs: 15_000,
    async prepare() {
      const binary = requireExecutable(['prometheus-alertmanager', 'alertmanager'], 'Alertmanager');
      for (const dir of [dirs.data, dirs.config, dirs.logs]) mkdirSync(dir, { recursive: true });
      const configFile = path.join(dirs.config, 'alertmanager.yml');
      copyFileSync(alertmanagerConfigFile, configFile);
      return {
        command: binary,
        args: alertmanagerArgs({ configFile, storageDir: dirs.data, port }),
        cwd: dirs.root,
        outputFile: logFile,
        version: 'unknown',
      };
    },
    async probe() {
      return (await probeAlertmanager(url))?.version;
    },
  };
}
