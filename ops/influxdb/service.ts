import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config.ts';
import { requireExecutable } from '../executables.ts';
import { serviceDirs } from '../paths.ts';
import { probeInflux } from '../probes.ts';
import type { ServiceDefinition } from '../service.ts';
import { influxdbConfig } from './config.ts';

/** InfluxDB 1.x (Debian's `influxdb` package), run directly rather than through systemd. */
/**
 * InfluxDB 1.x on loopback. With `auth`, every request needs credentials;
 * a fresh instance then accepts exactly one unauthenticated statement, the
 * creation of its first admin user (createInfluxAdmin).
 */
export function influxdbService(
  config: Config,
  options: { auth?: boolean; maxValuesPerTag?: number } = {},
): ServiceDefinition {
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
      writeFileSync(
        configFile,
        influxdbConfig({
          httpPort,
          rpcPort,
          metaDir: meta,
          dataDir: data,
          walDir: wal,
          authEnabled: options.auth,
          maxValuesPerTag: options.maxValuesPerTag,
        }),
      );
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

/**
 * Creates the admin user of an InfluxDB started with auth (allowed without
 * credentials only while it has no user); an existing user with the same
 * credentials is accepted. The password goes in the POST body, never in a URL.
 */
export async function createInfluxAdmin(url: string, username: string, password: string): Promise<void> {
  const quote = (text: string, mark: string): string =>
    `${mark}${text.replace(/\\/g, '\\\\').replace(new RegExp(mark, 'g'), `\\${mark}`)}${mark}`;
  const body = new URLSearchParams({
    q: `CREATE USER ${quote(username, '"')} WITH PASSWORD ${quote(password, "'")} WITH ALL PRIVILEGES`,
  });
  const post = (headers: Record<string, string>) =>
    fetch(`${url.replace(/\/+$/, '')}/query`, { method: 'POST', body, headers });
  let response = await post({});
  // Once a user exists, the statement needs credentials: the same ones succeed if this user is it.
  if (response.status === 401 || response.status === 403)
    response = await post({ authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` });
  const text = await response.text();
  if (!response.ok || /"error"/.test(text))
    throw new Error(`creating the InfluxDB admin user failed: HTTP ${response.status} ${text.slice(0, 200)}`);
}
