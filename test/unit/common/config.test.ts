import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, configOrigin, ENV_VARS } from '../../../common/config.ts';
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

  it('leaves detector.threshold unset by default (the model’s stored threshold applies) and defaults the hysteresis and catch-up keys', () => {
    const config = loadConfig({ env: {} });
    expect(config.detector.threshold).toBeUndefined();
    expect(config.detector).toMatchObject({
      alertAfterTicks: 2,
      resolveAfterTicks: 10,
      resolveRatio: 0.5,
      localizationRatio: 0.5,
    });
    expect(config.ingest.maxCatchUpMs).toBe(24 * 3600_000);
    expect(loadConfig({ env: { WSN_THRESHOLD: '0.3', WSN_MAX_CATCH_UP_MS: '60000' } })).toMatchObject({
      detector: { threshold: 0.3 },
      ingest: { maxCatchUpMs: 60_000 },
    });
  });

  it('configOrigin names the layer that set a key', () => {
    const file = tempConfig({ detector: { threshold: 0.4 } });
    expect(configOrigin('detector.threshold', { env: {} })).toEqual({ kind: 'default' });
    expect(configOrigin('detector.threshold', { env: {}, file })).toEqual({ kind: 'file', file });
    expect(configOrigin('detector.threshold', { env: { WSN_THRESHOLD: '0.3' }, file })).toEqual({
      kind: 'environment',
      name: 'WSN_THRESHOLD',
    });
    expect(
      configOrigin('detector.threshold', { env: { WSN_THRESHOLD: '0.3' }, file, flags: { 'detector.threshold': 0.2 } }),
    ).toEqual({ kind: 'flag' });
    expect(configOrigin('detector.threshold', { env: {}, flags: { 'detector.threshold': undefined } })).toEqual({
      kind: 'default',
    });
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

  it('reads Kafka TLS from WSN_KAFKA_SSL and the PEM file variables', () => {
    expect(loadConfig({ env: {} }).kafka.ssl).toBeUndefined();
    expect(loadConfig({ env: { WSN_KAFKA_SSL: 'true' } }).kafka.ssl).toBe(true);
    expect(loadConfig({ env: { WSN_KAFKA_SSL: 'FALSE' } }).kafka.ssl).toBe(false);
    // A file alone turns TLS on, with WSN_KAFKA_SSL=true or without it.
    const files = { WSN_KAFKA_SSL_CA: 'ca.pem', WSN_KAFKA_SSL_CERT: 'client.crt', WSN_KAFKA_SSL_KEY: 'client.key' };
    const expected = { ca: 'ca.pem', cert: 'client.crt', key: 'client.key' };
    expect(loadConfig({ env: files }).kafka.ssl).toEqual(expected);
    expect(loadConfig({ env: { WSN_KAFKA_SSL: 'true', ...files } }).kafka.ssl).toEqual(expected);
    expect(loadConfig({ env: { WSN_KAFKA_SSL_CA: 'ca.pem' } }).kafka.ssl).toEqual({ ca: 'ca.pem' });
  });

  it('keeps the file’s TLS files under WSN_KAFKA_SSL=true, and lets the environment add or turn TLS off', () => {
    const file = tempConfig({ kafka: { ssl: { ca: 'file-ca.pem', cert: 'file.crt', key: 'file.key' } } });
    expect(loadConfig({ file, env: { WSN_KAFKA_SSL: 'true' } }).kafka.ssl).toEqual({
      ca: 'file-ca.pem',
      cert: 'file.crt',
      key: 'file.key',
    });
    expect(loadConfig({ file, env: { WSN_KAFKA_SSL_CA: 'env-ca.pem' } }).kafka.ssl).toMatchObject({ ca: 'env-ca.pem' });
    expect(loadConfig({ file, env: { WSN_KAFKA_SSL: 'false' } }).kafka.ssl).toBe(false);
    const on = tempConfig({ kafka: { ssl: true } });
    expect(loadConfig({ file: on, env: { WSN_KAFKA_SSL_CA: 'ca.pem' } }).kafka.ssl).toEqual({ ca: 'ca.pem' });
  });

  it('names the variable of a bad TLS setting', () => {
    expect(() => loadConfig({ env: { WSN_KAFKA_SSL: 'yes' } })).toThrow(/WSN_KAFKA_SSL=yes is not a boolean/);
    expect(() => loadConfig({ env: { WSN_KAFKA_SSL: 'false', WSN_KAFKA_SSL_CA: 'ca.pem' } })).toThrow(
      /WSN_KAFKA_SSL_CA is set but WSN_KAFKA_SSL=false/,
    );
    expect(() => loadConfig({ env: { WSN_KAFKA_SSL: 'yes' } })).toThrow(UserError);
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
    const missing = configKeys()
      .filter((k) => !CONFIG_DESCRIPTIONS[k.key])
      .map((k) => k.key);
    expect(missing).toEqual([]);
  });

  it('docs/configuration.md is current (regenerate with scripts/config-doc.ts)', () => {
    expect(readFileSync(path.join(repoRoot, 'docs/configuration.md'), 'utf8')).toBe(renderConfigDoc());
  });
});
