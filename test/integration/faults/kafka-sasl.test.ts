import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import { createTransport } from '../../../transport/index.ts';
import type { Transport } from '../../../common/transport.ts';
import { waitFor } from '../../support/wait.ts';
import { runId } from '../foundation/services.ts';
import { ownKafka, type OwnService } from './own-services.ts';

// Kafka with SASL on its client listener (a broker of the suite's own): the
// kafka.sasl settings reach the transport; PLAIN, SCRAM-SHA-256 and
// SCRAM-SHA-512 work; a wrong password is refused at once (not retried
// forever like an outage); the password is in no log line.

const ADMIN = { username: 'wsn-admin', password: 'Admin-Sasl-Pa55' };
const APP = { username: 'wsn-app', password: 'App-Sasl-Pa55!' };

describe('Kafka with SASL', () => {
  let kafka: OwnService;
  const open: Transport[] = [];

  beforeAll(async () => {
    kafka = await ownKafka({ saslUsers: [ADMIN, APP] });
    await kafka.start();
  });

  afterAll(async () => {
    await Promise.all(open.map((t) => t.close().catch(() => undefined)));
    await kafka?.remove();
  });

  it('produces and consumes with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; refuses a wrong password; logs no password', async () => {
    const lines: string[] = [];
    const logger = createLogger('sasl', 'debug', { write: (line: string) => void lines.push(line) });
    const id = runId();
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const config = loadConfig({
        env: {
          WSN_KAFKA_BROKERS: kafka.address,
          WSN_KAFKA_CLIENT_ID: `sasl-${mechanism}`,
          WSN_KAFKA_SASL_MECHANISM: mechanism,
          WSN_KAFKA_SASL_USERNAME: APP.username,
          WSN_KAFKA_SASL_PASSWORD: APP.password,
        },
      });
      const transport = createTransport(config, { logger });
      open.push(transport);
      const topic = `sasl.${mechanism}.${id}`;
      await transport.ensureTopics([{ topic, partitions: 1 }]);
      const producer = await transport.producer();
      await producer.send(topic, [{ key: 'k', value: `hello over ${mechanism}` }]);
      await producer.close();
      const got: string[] = [];
      const subscription = await transport.subscribe({
        groupId: `sasl-${mechanism}-${id}`,
        topics: [topic],
        fromBeginning: true,
        onBatch: async (batch) => void got.push(...batch.messages.map((m) => m.value.toString())),
      });
      await waitFor(`the message over ${mechanism}`, () => got.length > 0, 30_000, 100);
      await subscription.close();
      expect(got, mechanism).toEqual([`hello over ${mechanism}`]);
    }

    const wrong = createTransport(
      loadConfig({
        env: {
          WSN_KAFKA_BROKERS: kafka.address,
          WSN_KAFKA_SASL_MECHANISM: 'scram-sha-256',
          WSN_KAFKA_SASL_USERNAME: APP.username,
          WSN_KAFKA_SASL_PASSWORD: 'Wrong-Sasl-Pa55',
        },
      }),
      { logger },
    );
    open.push(wrong);
    const started = Date.now();
    await expect(wrong.producer()).rejects.toThrow(/SASL|authentication/i);
    expect(Date.now() - started).toBeLessThan(60_000);
    const anonymous = createTransport(loadConfig({ env: { WSN_KAFKA_BROKERS: kafka.address } }), { logger });
    open.push(anonymous);
    await expect(anonymous.ensureTopics([{ topic: `sasl.anon.${id}`, partitions: 1 }])).rejects.toThrow();

    const text = lines.join('');
    for (const secret of [APP.password, 'Wrong-Sasl-Pa55']) expect(text).not.toContain(secret);
  });
});
