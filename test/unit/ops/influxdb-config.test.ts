import { describe, expect, it } from 'vitest';
import { influxdbConfig } from '../../../ops/influxdb/config.ts';

/** The TOML sections of the generated file, as key → raw value per section ('' = top level). */
function sections(toml: string): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>([['', new Map()]]);
  let current = result.get('')!;
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      result.set(header[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return result;
}

describe('influxdbConfig', () => {
  const toml = sections(
    influxdbConfig({ httpPort: 18086, rpcPort: 18088, metaDir: '/s/meta', dataDir: '/s/data', walDir: '/s/wal' }),
  );

  it('binds HTTP and the backup RPC port to loopback only', () => {
    expect(toml.get('http')?.get('bind-address')).toBe('"127.0.0.1:18086"');
    expect(toml.get('')?.get('bind-address')).toBe('"127.0.0.1:18088"');
  });

  it('keeps meta, data and WAL in the given folders', () => {
    expect(toml.get('meta')?.get('dir')).toBe('"/s/meta"');
    expect(toml.get('data')?.get('dir')).toBe('"/s/data"');
    expect(toml.get('data')?.get('wal-dir')).toBe('"/s/wal"');
  });

  it('disables usage reporting and the self-monitoring database', () => {
    expect(toml.get('')?.get('reporting-disabled')).toBe('true');
    expect(toml.get('monitor')?.get('store-enabled')).toBe('false');
  });

  it('lifts the per-tag and per-database limits that would refuse the points of networks over 100,000 nodes', () => {
    expect(toml.get('data')?.get('max-values-per-tag')).toBe('0');
    expect(toml.get('data')?.get('max-series-per-database')).toBe('0');
    const limited = sections(
      influxdbConfig({ httpPort: 1, rpcPort: 2, metaDir: '/m', dataDir: '/d', walDir: '/w', maxValuesPerTag: 5 }),
    );
    expect(limited.get('data')?.get('max-values-per-tag')).toBe('5');
  });

  it('quotes paths as TOML strings, so quotes in a path cannot break the file', () => {
    const odd = sections(
      influxdbConfig({ httpPort: 1, rpcPort: 2, metaDir: '/a "b"/meta', dataDir: '/d', walDir: '/w' }),
    );
    expect(JSON.parse(odd.get('meta')?.get('dir') ?? '')).toBe('/a "b"/meta');
  });
});
