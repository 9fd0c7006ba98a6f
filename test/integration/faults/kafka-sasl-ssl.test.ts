import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { Transport } from '../../../common/transport.ts';
import { createTransport } from '../../../transport/index.ts';
import { waitFor } from '../../support/wait.ts';
import { runId } from '../foundation/services.ts';
import { ownKafka, type OwnService } from './own-services.ts';
import { makeTestCerts, type TestCerts } from './tls-certs.ts';

// Kafka with SASL_SSL and client certificates (a broker of the suite's own,
// a throw-away CA): kafka.ssl (CA, client certificate and key) and
// kafka.sasl reach the transport; without the CA or without a client
// certificate the connection is refused.

const ADMIN = { username: 'wsn-admin', password: 'Admin-Tls-Pa55' };

describe('Kafka with SASL_SSL and client certificates', () => {
  let kafka: OwnService;
  let certs: TestCerts;
  const open: Transport[] = [];

  beforeAll(async () => {
    certs = makeTestCerts();
    const probeSsl = {
      ca: [readFileSync(certs.ca, 'utf8')],
      cert: readFileSync(certs.clientCert, 'utf8'),
      key: readFileSync(certs.clientKey, 'utf8'),
    };
    kafka = await ownKafka({
      saslUsers: [ADMIN],
      tls: { keystore: certs.serverPem, truststore: certs.ca, clientAuth: true },
      probeSsl,
    });
    await kafka.start();
  });

  afterAll(async () => {
    await Promise.all(open.map((t) => t.close().catch(() => undefined)));
    await kafka?.remove();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });

  it('produces and consumes over TLS with SCRAM; refuses a client without a certificate or without the CA', async () => {
    const logger = createLogger('sasl-ssl', 'silent');
    const id = runId();
    const file = `${certs.dir}/config.json`;
    const base = {
      kafka: {
        brokers: [kafka.address],
        clientId: `tls-${id}`,
        sasl: { mechanism: 'scram-sha-512', username: ADMIN.username, password: ADMIN.password },
      },
    };
    // A config file, as an operator would write one (kafka.ssl has no environment variable).
    const withTls = (ssl: unknown) => {
      writeFileSync(file, JSON.stringify({ ...base, kafka: { ...base.kafka, ssl } }));
      return loadConfig({ file, env: {} });
    };
    const transport = createTransport(withTls({ ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }), {
      logger,
    });
    open.push(transport);
    const topic = `tls.${id}`;
    await transport.ensureTopics([{ topic, partitions: 1 }]);
    const producer = await transport.producer();
    await producer.send(topic, [{ key: 'k', value: 'over SASL_SSL' }]);
    await producer.close();
    const got: string[] = [];
    const subscription = await transport.subscribe({
      groupId: `tls-${id}`,
      topics: [topic],
      fromBeginning: true,
      onBatch: async (batch) => void got.push(...batch.messages.map((m) => m.value.toString())),
    });
    await waitFor('the message over SASL_SSL', () => got.length > 0, 30_000, 100);
    await subscription.close();
    expect(got).toEqual(['over SASL_SSL']);

    const noClientCert = createTransport(withTls({ ca: certs.ca }), { logger });
    open.push(noClientCert);
    await expect(noClientCert.ensureTopics([{ topic: `tls.x.${id}`, partitions: 1 }])).rejects.toThrow();
    const noCa = createTransport(withTls(true), { logger });
    open.push(noCa);
    await expect(noCa.ensureTopics([{ topic: `tls.y.${id}`, partitions: 1 }])).rejects.toThrow();
  });
});
