import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createTransport } from '../../../transport/index.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';

describe('Kafka consumer session timeout', () => {
  it('defaults to 30 s and follows WSN_KAFKA_SESSION_TIMEOUT_MS', async () => {
    const byDefault = createTransport(loadConfig({ env: {} }));
    const shorter = createTransport(loadConfig({ env: { WSN_KAFKA_SESSION_TIMEOUT_MS: '10000' } }));
    expect(byDefault).toBeInstanceOf(KafkaTransport);
    expect((byDefault as KafkaTransport).sessionTimeoutMs).toBe(30_000);
    expect((shorter as KafkaTransport).sessionTimeoutMs).toBe(10_000);
    await Promise.all([byDefault.close(), shorter.close()]);
  });

  it('refuses values the broker would refuse, naming the key', () => {
    expect(() => loadConfig({ env: { WSN_KAFKA_SESSION_TIMEOUT_MS: '1000' } })).toThrow(/kafka\.sessionTimeoutMs/);
  });
});
