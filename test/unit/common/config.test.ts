import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, ENV_VARS } from '../../../common/config.ts';
import { CONFIG_DESCRIPTIONS, configKeys, renderConfigDoc } from '../../../common/config-docs.ts';
import { UserError } from '../../../common/errors.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function tempConfig(content: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'wsn-config-')), 'config.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('loadConfig', () => {
  it('gives the documented defaults with no file, environment or flags', () => {
    const config = loadConfig({ env: {} });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.ingest.tickMs).toBe(31_000);
    expect(config.dashboard.host).toBe('127.0.0.1');
  });

  it('applies defaults < file < environment < flags', () => {
    const file = tempConfig({ network: 'from-file', ingest: { tickMs: 1000, silenceMs: 5000 } });
    const env = { WSN_NETWORK: 'from-env', WSN_TICK_MS: '2000' };
    const config = loadConfig({ file, env, flags: { network: 'from-flag' } });
    expect(config.network).toBe('from-flag');
    expect(config.ingest.tickMs).toBe(2000);
    expect(config.ingest.silenceMs).toBe(5000);
    expect(config.ingest.allowedLatenessMs).toBe(62_000);
  });

  it('splits list variables on commas', () => {
    const config = loadConfig({ env: { WSN_KAFKA_BROKERS: 'a:1, b:2' } });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
  });

  it('names the key and the problem of an invalid value', () => {
    expect(() => loadConfig({ env: { WSN_TICK_MS: '-5' } })).toThrow(/ingest\.tickMs/);
    expect(() => loadConfig({ env: { WSN_TICK_MS: '-5' } })).toThrow(UserError);
  });

  it('says which file is missing or not JSON', () => {
    expect(() => loadConfig({ file: '/nonexistent/wsn.json', env: {} })).toThrow(/does not exist/);
    const broken = tempConfig('x');
    writeFileSync(broken, '{ not json');
    expect(() => loadConfig({ file: broken, env: {} })).toThrow(/not valid JSON/);
  });
});

describe('configuration docs', () => {
  it('maps every environment variable to a real key', () => {
    const keys = new Set(configKeys().map((k) => k.key));
    for (const [env, key] of Object.entries(ENV_VARS)) expect(keys.has(key), `${env} → ${key}`).toBe(true);
  });

  it('describes every key', () => {
    const missing = configKeys().filter((k) => !CONFIG_DESCRIPTIONS[k.key]).map((k) => k.key);
    expect(missing).toEqual([]);
  });

  it('docs/configuration.md is current (regenerate with scripts/config-doc.ts)', () => {
    expect(readFileSync(path.join(repoRoot, 'docs/configuration.md'), 'utf8')).toBe(renderConfigDoc());
  });
});
