import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { counter, declareMetrics, gauge, histogram, metricsClass } from '../../../common/metrics.ts';

const TABLE = {
  sent: counter('sent_total', 'Messages sent, by route', ['route']),
  queued: gauge('queued', 'Messages waiting'),
  seconds: histogram('send_seconds', 'Time to send one message', { buckets: [0.1, 1] }),
};

describe('declareMetrics', () => {
  it('makes each row on the registry, named prefix + row name, with its kind, help, labels and buckets', async () => {
    const registry = new Registry();
    const metrics = declareMetrics(registry, 'wsn_test_', TABLE);
    metrics.sent.labels('mail').inc(2);
    metrics.queued.set(3);
    metrics.seconds.observe(0.5);

    const text = await registry.metrics();
    expect(text).toContain('# HELP wsn_test_sent_total Messages sent, by route');
    expect(text).toContain('# TYPE wsn_test_sent_total counter');
    expect(text).toContain('wsn_test_sent_total{route="mail"} 2');
    expect(text).toContain('# TYPE wsn_test_queued gauge');
    expect(text).toContain('wsn_test_queued 3');
    expect(text).toContain('wsn_test_send_seconds_bucket{le="0.1"} 0');
    expect(text).toContain('wsn_test_send_seconds_bucket{le="1"} 1');
    expect(text).not.toContain('le="0.005"'); // prom-client's default buckets are replaced
  });

  it("leaves a histogram without buckets on prom-client's defaults", async () => {
    const registry = new Registry();
    declareMetrics(registry, 'wsn_test_', { wait: histogram('wait_seconds', 'Wait') });
    expect(await registry.metrics()).toContain('wsn_test_wait_seconds_bucket{le="0.005"} 0');
  });
});

describe('metricsClass', () => {
  class TestMetrics extends metricsClass('wsn_test_', TABLE) {}

  it('gives every instance a registry of its own holding the table as properties', async () => {
    const a = new TestMetrics();
    const b = new TestMetrics();
    a.queued.set(1);
    b.queued.set(2);
    expect(await a.registry.metrics()).toContain('wsn_test_queued 1');
    expect(await b.registry.metrics()).toContain('wsn_test_queued 2');
  });

  it("adds Node's default metrics under the prefix only when asked", async () => {
    expect(await new TestMetrics().registry.metrics()).not.toContain('wsn_test_process_cpu_seconds_total');
    const withDefaults = new TestMetrics({ defaultMetrics: true });
    expect(await withDefaults.registry.metrics()).toContain('wsn_test_process_cpu_seconds_total');
  });
});
