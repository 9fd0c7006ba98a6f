import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { kafkaSecurity } from '../../../transport/security.ts';

describe('kafkaSecurity', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsn-sec-'));
  const file = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const config = (kafka: unknown) => loadConfig({ file: file('config.json', JSON.stringify({ kafka })), env: {} });

  it('is empty without settings, and passes SASL from the config and the environment', () => {
    expect(kafkaSecurity(loadConfig({ env: {} }).kafka)).toEqual({});
    const env = {
      WSN_KAFKA_SASL_MECHANISM: 'scram-sha-256',
      WSN_KAFKA_SASL_USERNAME: 'app',
      WSN_KAFKA_SASL_PASSWORD: 'pw-1234',
    };
    expect(kafkaSecurity(loadConfig({ env }).kafka)).toEqual({
      sasl: { mechanism: 'scram-sha-256', username: 'app', password: 'pw-1234' },
    });
  });

  it('reads the PEM files of kafka.ssl, or trusts the system CAs with true', () => {
    const ca = file('ca.pem', 'CA PEM');
    const cert = file('c.crt', 'CERT PEM');
    const key = file('c.key', 'KEY PEM');
    expect(kafkaSecurity(config({ ssl: { ca, cert, key } }).kafka)).toEqual({
      ssl: { ca: ['CA PEM'], cert: 'CERT PEM', key: 'KEY PEM' },
    });
    expect(kafkaSecurity(config({ ssl: true }).kafka)).toEqual({ ssl: true });
  });

  it('says which file it cannot read, and refuses unknown kafka.ssl keys and mechanisms', () => {
    expect(() => kafkaSecurity(config({ ssl: { ca: path.join(dir, 'missing.pem') } }).kafka)).toThrow(
      /kafka\.ssl\.ca .*missing\.pem cannot be read/,
    );
    expect(() => config({ ssl: { cafile: 'x' } })).toThrow(/kafka\.ssl/);
    expect(() =>
      loadConfig({
        env: { WSN_KAFKA_SASL_MECHANISM: 'gssapi', WSN_KAFKA_SASL_USERNAME: 'a', WSN_KAFKA_SASL_PASSWORD: 'b' },
      }),
    ).toThrow(/kafka\.sasl\.mechanism/);
  });
});
