import type { Config } from '../common/config.ts';
import type { Transport } from '../common/transport.ts';
import type { Logger } from '../common/log.ts';
import { KafkaTransport, type KafkaTransportOptions } from './kafka.ts';
import { MemoryTransport, type MemoryTransportOptions } from './memory.ts';
import { kafkaSecurity } from './security.ts';

export { KafkaTransport } from './kafka.ts';
export { MemoryTransport } from './memory.ts';
export type { MemoryTransportOptions } from './memory.ts';
export { partitionForKey, murmur2 } from './partitioner.ts';

export interface CreateTransportOptions {
  /** `kafka` (default) talks to config.kafka.brokers; `memory` is the in-process transport of embedded mode. */
  kind?: 'kafka' | 'memory';
  logger?: Logger;
  memory?: MemoryTransportOptions;
  /** Tuning of the Kafka transport (fetch and request sizes, backoff). */
  kafka?: Partial<Omit<KafkaTransportOptions, 'brokers' | 'clientId' | 'logger' | 'security'>>;
}

/** The transport a service runs on, built from the one config. */
export function createTransport(config: Pick<Config, 'kafka'>, options: CreateTransportOptions = {}): Transport {
  if ((options.kind ?? 'kafka') === 'memory') return new MemoryTransport({ logger: options.logger, ...options.memory });
  return new KafkaTransport({
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    ...options.kafka,
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    logger: options.logger,
    security: kafkaSecurity(config.kafka),
  });
}
