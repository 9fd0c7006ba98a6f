import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pom that pins the Kafka version and lists the server's jars. */
export const kafkaPomFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pom.xml');

/** The pinned Kafka version: the `kafka.version` property of ops/kafka/pom.xml. */
export function kafkaVersion(pomXml: string = readFileSync(kafkaPomFile, 'utf8')): string {
  const match = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(pomXml);
  if (!match) throw new Error(`${kafkaPomFile} has no <kafka.version> property`);
  return match[1];
}

export interface KafkaServerOptions {
  brokerPort: number;
  controllerPort: number;
  dataDir: string;
  /**
   * SASL on the client listener (SASL_PLAINTEXT): these users, each with
   * PLAIN and SCRAM-SHA-256/512 credentials (the SCRAM ones are written when
   * the storage is formatted, see scramFormatArgs); the first one is also the
   * broker's own inter-broker identity.
   */
  saslUsers?: Array<{ username: string; password: string }>;
  /**
   * TLS on the client listener (SSL, or SASL_SSL with saslUsers): PEM files,
   * `keystore` holding the broker's private key (PKCS#8) and certificate
   * chain, `truststore` the CA that signs client certificates; with
   * `clientAuth` every client must present one.
   */
  tls?: { keystore: string; truststore: string; clientAuth?: boolean };
}

/** A JAAS option value: double-quoted, with quotes and backslashes escaped. */
function jaasString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The SASL part of server.properties (empty without users). */
function saslEntries(users: Array<{ username: string; password: string }>, listener: string): Array<[string, string]> {
  const [admin] = users;
  const plainUsers = users.map((u) => `user_${u.username}=${jaasString(u.password)}`).join(' ');
  return [
    ['sasl.enabled.mechanisms', 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512'],
    ['sasl.mechanism.inter.broker.protocol', 'PLAIN'],
    [
      `listener.name.${listener}.plain.sasl.jaas.config`,
      `org.apache.kafka.common.security.plain.PlainLoginModule required username=${jaasString(admin.username)} password=${jaasString(admin.password)} ${plainUsers};`,
    ],
    [
      `listener.name.${listener}.scram-sha-256.sasl.jaas.config`,
      `org.apache.kafka.common.security.scram.ScramLoginModule required username=${jaasString(admin.username)} password=${jaasString(admin.password)};`,
    ],
    [
      `listener.name.${listener}.scram-sha-512.sasl.jaas.config`,
      `org.apache.kafka.common.security.scram.ScramLoginModule required username=${jaasString(admin.username)} password=${jaasString(admin.password)};`,
    ],
  ];
}

/** `kafka-storage format` arguments that create the users' SCRAM credentials. */
export function scramFormatArgs(users: Array<{ username: string; password: string }> = []): string[] {
  return users.flatMap((u) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
      '--add-scram',
      `${m}=[name=${u.username},password=${u.password}]`,
    ]),
  );
}

/**
 * server.properties of a single-node KRaft cluster: one process is broker and
 * controller, on loopback only. Replication factors are 1 because there is
 * one node; the initial rebalance delay is 0 so a consumer group starts
 * consuming at once instead of after 3 s.
 */
export function kafkaServerProperties(options: KafkaServerOptions): string {
  const { brokerPort, controllerPort, dataDir } = options;
  const sasl = (options.saslUsers ?? []).length > 0;
  const tls = options.tls;
  const client = sasl ? (tls ? 'SASL_SSL' : 'SASL_PLAINTEXT') : tls ? 'SSL' : 'PLAINTEXT';
  const entries: Array<[string, string | number | boolean]> = [
    ['process.roles', 'broker,controller'],
    ['node.id', 1],
    ['controller.quorum.voters', `1@127.0.0.1:${controllerPort}`],
    ['listeners', `${client}://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`],
    ['advertised.listeners', `${client}://127.0.0.1:${brokerPort}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', client],
    ['listener.security.protocol.map', `CONTROLLER:PLAINTEXT,${client}:${client}`],
    ...(sasl ? saslEntries(options.saslUsers ?? [], client.toLowerCase()) : []),
    ...(tls
      ? ([
          ['ssl.keystore.type', 'PEM'],
          ['ssl.keystore.location', tls.keystore],
          ['ssl.truststore.type', 'PEM'],
          ['ssl.truststore.location', tls.truststore],
          ['ssl.client.auth', tls.clientAuth ? 'required' : 'none'],
          // A SASL_SSL listener ignores the plain setting: only the listener-prefixed one requires client certificates there.
          [`listener.name.${client.toLowerCase()}.ssl.client.auth`, tls.clientAuth ? 'required' : 'none'],
        ] as Array<[string, string]>)
      : []),
    ['log.dirs', dataDir],
    ['num.partitions', 1],
    ['auto.create.topics.enable', true],
    ['offsets.topic.replication.factor', 1],
    ['offsets.topic.num.partitions', 10],
    ['transaction.state.log.replication.factor', 1],
    ['transaction.state.log.min.isr', 1],
    ['share.coordinator.state.topic.replication.factor', 1],
    ['share.coordinator.state.topic.min.isr', 1],
    ['group.initial.rebalance.delay.ms', 0],
    // On a busy 2-core machine (model training beside the broker) the broker's heartbeats to its own
    // controller can stall for more than the default 9 s; the controller then fences the broker and
    // every partition loses its leader for a moment ("not the leader" errors on every client, topic
    // creation timing out). 30 s was still exceeded at a load average of 60 (evaluations beside tests);
    // a single-broker development cluster has no other broker to hand its partitions to anyway.
    ['broker.session.timeout.ms', 120_000],
    // The flip side: after the broker was killed, its controller keeps the old registration for that
    // session timeout from its own start, and refuses the new one meanwhile. The default 60 s of
    // retries would give up first and the broker would exit; wait beyond it instead (the start-up
    // wait of `services up` is 180 s).
    ['initial.broker.registration.timeout.ms', 150_000],
    // Development sizes: small segments and a week of retention keep the state folder small.
    ['log.segment.bytes', 64 * 1024 * 1024],
    ['log.retention.hours', 168],
  ];
  const lines = entries.map(([key, value]) => `${key}=${escapeProperty(String(value))}`);
  return `# Generated by \`wsn-watch services up\`; edits are overwritten on the next start.\n${lines.join('\n')}\n`;
}

/** Java properties treat backslashes as escapes; paths on Linux have none, but stay correct anyway. */
function escapeProperty(value: string): string {
  return value.replace(/\\/g, '\\\\');
}

/** Log4j 2 configuration: the broker's log in `logDir/server.log`, rolled at 20 MB, 5 files kept. */
export function kafkaLog4jProperties(logDir: string): string {
  const file = path.join(logDir, 'server.log');
  return [
    '# Generated by `wsn-watch services up`.',
    'status = warn',
    'appender.server.type = RollingFile',
    'appender.server.name = server',
    `appender.server.fileName = ${escapeProperty(file)}`,
    `appender.server.filePattern = ${escapeProperty(file)}.%i`,
    'appender.server.layout.type = PatternLayout',
    'appender.server.layout.pattern = [%d] %p %m (%c)%n',
    'appender.server.policies.type = Policies',
    'appender.server.policies.size.type = SizeBasedTriggeringPolicy',
    'appender.server.policies.size.size = 20MB',
    'appender.server.strategy.type = DefaultRolloverStrategy',
    'appender.server.strategy.max = 5',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.server.ref = server',
    // The request logger and the state-change logger are very chatty at INFO.
    'logger.request.name = kafka.request.logger',
    'logger.request.level = WARN',
    'logger.state.name = state.change.logger',
    'logger.state.level = WARN',
    '',
  ].join('\n');
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (what
 * `kafka-storage random-uuid` prints). Ids starting with '-' are avoided so
 * the formatter's argument parser cannot take one for an option.
 */
export function newClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** JVM flags: a small heap, the broker is a development instance sharing the machine. */
export function kafkaJvmArgs(options: { log4jFile: string; logDir: string; libsDir: string }): string[] {
  return [
    '-Xms256m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${options.log4jFile}`,
    `-Dkafka.logs.dir=${options.logDir}`,
    '-cp',
    // The JVM expands a trailing '*' to every jar of the folder.
    `${options.libsDir}/*`,
  ];
}
