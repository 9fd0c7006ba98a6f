import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../../common/config.ts';
import { probeAlertmanager, probeInflux, probeKafka } from '../../../ops/probes.ts';

const START_HINT = 'start them first: `node bin/wsn-watch.mjs services up` (scripts/test-all.sh does it)';

/**
 * Checks that the real Kafka, InfluxDB and Alertmanager answer (the addresses
 * come from the wsn-watch config, so WSN_* variables apply) and fails with a
 * message saying which one does not and how to start it. Integration suites
 * call it in beforeAll.
 */
export async function requireServices(config: Config = loadConfig()): Promise<Config> {
  const [kafka, influx, alertmanager] = await Promise.all([
    probeKafka(config.kafka.brokers[0], 5_000),
    probeInflux(config.influx.url),
    probeAlertmanager(config.alertmanager.url),
  ]);
  const missing = [
    kafka ? undefined : `Kafka at ${config.kafka.brokers[0]}`,
    influx ? undefined : `InfluxDB at ${config.influx.url}`,
    alertmanager ? undefined : `Alertmanager at ${config.alertmanager.url}`,
  ].filter((item): item is string => item !== undefined);
  if (missing.length > 0) throw new Error(`integration services not answering: ${missing.join(', ')}; ${START_HINT}`);
  return config;
}

/** A name suffix unique to this test run, so reruns never see an earlier run's topics or databases. */
export function runId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}
