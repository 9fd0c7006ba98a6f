import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { alertmanagerArgs, alertmanagerConfigFile } from '../../../ops/alertmanager/service.ts';

interface Route {
  receiver?: string;
  routes?: Route[];
}
interface AlertmanagerConfig {
  route: Route;
  receivers: Array<{ name: string }>;
}

describe('ops/alertmanager/alertmanager.yml', () => {
  const config = parse(readFileSync(alertmanagerConfigFile, 'utf8')) as AlertmanagerConfig;

  it('routes to receivers that are defined', () => {
    const names = new Set(config.receivers.map((r) => r.name));
    const used = (route: Route): string[] =>
      [route.receiver ?? '', ...(route.routes ?? []).flatMap(used)].filter(Boolean);
    expect(config.route.receiver).toBeDefined();
    for (const receiver of used(config.route)) expect(names.has(receiver)).toBe(true);
  });
});

describe('alertmanagerArgs', () => {
  const args = alertmanagerArgs({ configFile: '/s/config/alertmanager.yml', storageDir: '/s/data', port: 19093 });

  it('listens on loopback at the configured port and keeps storage in the state folder', () => {
    expect(args).toContain('--web.listen-address=127.0.0.1:19093');
    expect(args).toContain('--storage.path=/s/data');
    expect(args).toContain('--config.file=/s/config/alertmanager.yml');
  });

  it('turns cluster gossip off with an empty listen address', () => {
    expect(args).toContain('--cluster.listen-address=');
  });
});
