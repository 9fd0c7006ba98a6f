/**
 * Where the topology's records live: the compacted topic on a transport
 * (Kafka, or the in-process one). A publisher or follower either gets the
 * transport to use, or makes a Kafka transport of its own from broker
 * addresses and the `kafka.sasl` / `kafka.ssl` settings.
 */
import type { Config } from '../common/config.ts';
import { createLogger, type Logger } from '../common/log.ts';
import type { Transport } from '../common/transport.ts';
import { TOPICS } from '../common/types.ts';
import { KafkaTransport } from '../transport/kafka.ts';
import { kafkaSecurity, type KafkaSecurity } from '../transport/security.ts';

/** A Kafka cluster to connect to, with the settings every Kafka client of wsn-watch takes. */
export interface KafkaConnection {
  brokers: string[];
  clientId?: string;
  /** SASL and TLS (config `kafka.sasl` / `kafka.ssl`, see transport/security.ts). */
  security?: KafkaSecurity;
}

/** The transport to use (not closed by its user), or a Kafka cluster to make one for. */
export type TopologyConnection = { transport: Transport } | KafkaConnection;

export type TopologyKafkaOptions = TopologyConnection & {
  /** Network name: the key prefix, so several networks can share the topic. */
  network: string;
  topic?: string;
  logger?: Logger;
};

/** The connection of the configuration: brokers, client id, SASL and TLS. */
export function kafkaConnection(
  kafka: Pick<Config['kafka'], 'brokers' | 'clientId' | 'sasl' | 'ssl'>,
): KafkaConnection {
  return { brokers: kafka.brokers, clientId: kafka.clientId, security: kafkaSecurity(kafka) };
}

/** The transport of a publisher or follower, and whether it made it (and so closes it). */
export function topologyTransport(
  options: TopologyConnection & { logger?: Logger },
  tuning: { sessionTimeoutMs?: number } = {},
): { transport: Transport; owned: boolean } {
  if ('transport' in options) return { transport: options.transport, owned: false };
  const transport = new KafkaTransport({
    brokers: options.brokers,
    clientId: options.clientId ?? 'wsn-watch-topology',
    logger: options.logger ?? createLogger('topology.kafka'),
    security: options.security,
    sessionTimeoutMs: tuning.sessionTimeoutMs,
  });
  return { transport, owned: true };
}

/**
 * Creates the topology topic with cleanup.policy=compact (one partition, so a
 * change's records stay in order), or switches an existing topic to compact.
 */
export async function ensureTopologyTopic(transport: Transport, topic: string = TOPICS.topology): Promise<void> {
  await transport.ensureTopics([{ topic, partitions: 1, compact: true }]);
}

/** Every record of `network` on the topic now (read from its start up to its current end), values as JSON text. */
export async function readTopologyRecords(
  transport: Transport,
  network: string,
  topic: string = TOPICS.topology,
): Promise<Map<string, string>> {
  const table = transport.table({ topic, partitions: 1 });
  try {
    return networkRecords(await table.readToEnd(), network);
  } finally {
    await table.close();
  }
}

/** The records of one network out of a whole table. */
export function networkRecords(all: ReadonlyMap<string, Buffer>, network: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of all) if (key.startsWith(`${network}/`)) out.set(key, value.toString('utf8'));
  return out;
}
