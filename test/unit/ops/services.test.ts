import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../common/config.ts';
import { UserError } from '../../../common/errors.ts';
import { resolveStateDir, serviceDirs, servicesRoot, repoRoot } from '../../../ops/paths.ts';
import { servicesDown, servicesStatus, servicesUp } from '../../../ops/services.ts';
import { freePort } from '../../support/ports.ts';

/** Listens on a free loopback port: stands for "another program already has this port". */
async function occupyPort(): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const portOf = (server: Server) => (server.address() as AddressInfo).port;

/** The configuration of services kept in `stateDir`, on the given loopback ports. */
function configOnPorts(stateDir: string, [kafka, controller, influx, alertmanager]: number[]): Config {
  return loadConfig({
    env: {
      WSN_STATE_DIR: stateDir,
      WSN_KAFKA_PORT: String(kafka),
      WSN_KAFKA_CONTROLLER_PORT: String(controller),
      WSN_INFLUX_PORT: String(influx),
      WSN_ALERTMANAGER_PORT: String(alertmanager),
    },
  });
}

describe('services with ports taken by other programs', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'wsn-ops-services-'));
  let servers: Server[] = [];
  let config: Config;

  beforeAll(async () => {
    servers = await Promise.all([occupyPort(), occupyPort(), occupyPort(), occupyPort()]);
    config = configOnPorts(stateDir, servers.map(portOf));
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('up refuses to start anything and names every taken port', async () => {
    const error = await servicesUp(config, () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('PORT_IN_USE');
    const message = (error as UserError).message;
    for (const [name, port] of [
      ['kafka', config.services.kafkaPort],
      ['influxdb', config.services.influxPort],
      ['alertmanager', config.services.alertmanagerPort],
    ] as const) {
      expect(message).toContain(`${name}: port ${port} on 127.0.0.1 is in use`);
    }
    expect((error as UserError).hint).toContain('WSN_KAFKA_PORT');
  });

  it('status reports nothing of ours as up; down with --purge removes the state folder', async () => {
    const states = await servicesStatus(config);
    expect(states.map((s) => s.name)).toEqual(['kafka', 'influxdb', 'alertmanager']);
    expect(states.every((s) => s.state === 'down' && s.pid === undefined)).toBe(true);
    const lines: string[] = [];
    await servicesDown(config, { purge: true }, (line) => lines.push(line));
    expect(lines).toContain('kafka: not running');
    expect(lines.some((line) => line.startsWith('removed '))).toBe(true);
  });
});

describe('services on a machine without the programs', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'wsn-ops-services-'));
  const emptyBin = mkdtempSync(path.join(tmpdir(), 'wsn-ops-empty-bin-'));
  const savedPath = process.env.PATH;

  afterAll(() => {
    process.env.PATH = savedPath;
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(emptyBin, { recursive: true, force: true });
  });

  it('up fails with a user error naming each missing program and the install script', async () => {
    const config = configOnPorts(stateDir, await Promise.all([freePort(), freePort(), freePort(), freePort()]));
    process.env.PATH = emptyBin;
    const error = await servicesUp(config, () => undefined).catch((e: unknown) => e);
    process.env.PATH = savedPath;
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('SERVICE_BINARY_MISSING');
    expect((error as UserError).message).toContain('java not found on PATH');
    expect((error as UserError).message).toContain('influxd not found on PATH');
    expect((error as UserError).message).toContain('prometheus-alertmanager not found on PATH');
    expect((error as UserError).hint).toContain('scripts/install-system.sh');
  });
});

describe('state layout', () => {
  it('puts every service under <stateDir>/services/<name>, a relative stateDir taken from the repo root', () => {
    expect(resolveStateDir('var')).toBe(path.join(repoRoot, 'var'));
    expect(resolveStateDir('/elsewhere/state')).toBe('/elsewhere/state');
    const dirs = serviceDirs('var', 'influxdb');
    expect(dirs.root).toBe(path.join(servicesRoot('var'), 'influxdb'));
    for (const sub of [dirs.data, dirs.config, dirs.logs, dirs.runFile]) expect(path.dirname(sub)).toBe(dirs.root);
  });
});
