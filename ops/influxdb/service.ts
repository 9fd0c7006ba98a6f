import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config.ts';
import { requireExecutable } from '../executables.ts';
import { serviceDirs } from '../paths.ts';
import { probeInflux } from '../probes.ts';
import type { ServiceDefinition } from '../service.ts';
import { influxdbConfig } from './config.ts';

/** InfluxDB 1.x (Debian's `influxdb` package), run directly rather than through systemd. */
export function influxdbService(config: Config): ServiceDefinition {
  const dirs = serviceDirs(config.stateDir, 'influxdb');
  const httpPort = config.services.influxPort;
  // influxd also binds a backup RPC port; keep it beside the HTTP port (8086 → 8088, the upstream default).
  const rpcPort = httpPort + 2;
  const url = `http://127.0.0.1:${httpPort}`;
  const logFile = path.join(dirs.logs, 'influxd.log');
  return {
    name: 'influxdb',
    address: `127.0.0.1:${httpPort}`,
    ports: [httpPort, rpcPort],
    dirs,
    logFile,
    readyTimeoutMs: 60_000,
    stopGraceMs: 20_000,
    async prepare() {
      const influxd = requireExecutable(['influxd'], 'InfluxDB');
      const meta = path.join(dirs.data, 'meta');
      const data = path.join(dirs.data, 'data');
      const wal = path.join(dirs.data, 'wal');
      for (const dir of [meta, data, wal, dirs.config, dirs.logs]) mkdirSync(dir, { recursive: true });
      const configFile = path.join(dirs.config, 'influxdb.conf');
      writeFileSync(configFile, influxdbConfig({ httpPort, rpcPort, metaDir: meta, dataDir: data, walDir: wal }));
      return {
        command: influxd,
        args: ['run', '-config', configFile],
        cwd: dirs.root,
        outputFile: logFile,
        version: 'unknown',
      };
    },
    async probe() {
      return (await probeInflux(url))?.version;
    },
  };
}
