import { Kafka, logLevel } from 'kafkajs';
import type { KafkaSecurity } from '../transport/security.ts';
import { httpGet } from './net.ts';

/**
 * Health checks that talk each service's own protocol: a TCP port that
 * accepts connections is not enough (Kafka accepts them long before it can
 * serve metadata). Each returns undefined when the service does not answer.
 */

/** Kafka answers when a metadata request (listTopics) succeeds. Returns the number of topics. */
export async function probeKafka(
  broker: string,
  timeoutMs = 3_000,
  security: KafkaSecurity = {},
): Promise<{ topics: number } | undefined> {
  const kafka = new Kafka({
    clientId: 'wsn-watch-probe',
    brokers: [broker],
    ...security,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 1_000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    return { topics: topics.length };
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** InfluxDB 1.x answers /ping with 204 and its version in the X-Influxdb-Version header. */
export async function probeInflux(url: string): Promise<{ version: string } | undefined> {
  const response = await httpGet(new URL('/ping', url).toString());
  if (!response || response.status !== 204) return undefined;
  return { version: response.headers.get('x-influxdb-version') ?? 'unknown' };
}

interface AlertmanagerStatusBody {
  versionInfo?: { version?: string };
}

/** Alertmanager is ready when /-/ready says 200; its version comes from /api/v2/status. */
export async function probeAlertmanager(url: string): Promise<{ version: string } | undefined> {
  const ready = await httpGet(new URL('/-/ready', url).toString());
  if (!ready || ready.status !== 200) return undefined;
  const status = await httpGet(new URL('/api/v2/status', url).toString());
  if (!status || !status.ok) return undefined;
  const body = (await status.json()) as AlertmanagerStatusBody;
  return { version: body.versionInfo?.version ?? 'unknown' };
}
