import { readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { Config } from '../common/config.ts';
import { UserError } from '../common/errors.ts';

/** How a Kafka client authenticates and encrypts: config `kafka.sasl` and `kafka.ssl`. */
export interface KafkaSecurity {
  sasl?: SASLOptions;
  ssl?: boolean | ConnectionOptions;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(
      'KAFKA_TLS_FILE',
      `kafka.ssl.${what} ${file} cannot be read: ${(error as Error).message}`,
      `point kafka.ssl.${what} at a PEM file`,
    );
  }
}

/** The kafkajs `sasl` and `ssl` options of the configuration (none when unset). */
export function kafkaSecurity(kafka: Pick<Config['kafka'], 'sasl' | 'ssl'>): KafkaSecurity {
  const security: KafkaSecurity = {};
  if (kafka.sasl) {
    const { mechanism, username, password } = kafka.sasl;
    security.sasl = { mechanism, username, password } as SASLOptions;
  }
  if (kafka.ssl === true) security.ssl = true;
  else if (kafka.ssl && typeof kafka.ssl === 'object') {
    security.ssl = {
      ...(kafka.ssl.ca ? { ca: [readPem(kafka.ssl.ca, 'ca')] } : {}),
      ...(kafka.ssl.cert ? { cert: readPem(kafka.ssl.cert, 'cert') } : {}),
      ...(kafka.ssl.key ? { key: readPem(kafka.ssl.key, 'key') } : {}),
    };
  }
  return security;
}
