import { describe, expect, it } from 'vitest';
import {
  kafkaJvmArgs,
  kafkaServerProperties,
  kafkaVersion,
  newClusterId,
  scramFormatArgs,
} from '../../../ops/kafka/config.ts';
import { parseJavaMajor } from '../../../ops/kafka/runtime.ts';

function parseProperties(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq), line.slice(eq + 1)] as [string, string];
    });
  return new Map(entries);
}

describe('kafkaServerProperties', () => {
  const props = parseProperties(
    kafkaServerProperties({ brokerPort: 19092, controllerPort: 19094, dataDir: '/state/kafka/data' }),
  );

  it('runs one combined broker+controller whose quorum is itself on the controller port', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('controller.quorum.voters')).toBe(`${props.get('node.id')}@127.0.0.1:19094`);
  });

  it('listens and advertises on loopback only, on the configured ports', () => {
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19094');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
  });

  it('with SASL users, listens SASL_PLAINTEXT with PLAIN and SCRAM, quoting passwords for JAAS; SCRAM credentials go to the formatter', () => {
    const users = [
      { username: 'admin', password: 'a"b\\c' },
      { username: 'app', password: 'p' },
    ];
    const sasl = parseProperties(
      kafkaServerProperties({ brokerPort: 1, controllerPort: 2, dataDir: '/d', saslUsers: users }),
    );
    expect(sasl.get('listeners')).toBe('SASL_PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2');
    expect(sasl.get('listener.security.protocol.map')).toBe('CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT');
    expect(sasl.get('sasl.enabled.mechanisms')).toBe('PLAIN,SCRAM-SHA-256,SCRAM-SHA-512');
    // JAAS escapes the quote and the backslash (a\"b\\c); Java properties then double every backslash.
    expect(sasl.get('listener.name.sasl_plaintext.plain.sasl.jaas.config')).toBe(
      String.raw`org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a\\"b\\\\c" user_admin="a\\"b\\\\c" user_app="p";`,
    );
    expect(scramFormatArgs(users.slice(1))).toEqual([
      '--add-scram',
      'SCRAM-SHA-256=[name=app,password=p]',
      '--add-scram',
      'SCRAM-SHA-512=[name=app,password=p]',
    ]);
  });

  it('keeps the log in the state folder and uses replication factor 1 for internal topics', () => {
    expect(props.get('log.dirs')).toBe('/state/kafka/data');
    expect(props.get('offsets.topic.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.replication.factor')).toBe('1');
  });

  it('escapes backslashes, which Java properties read as escapes', () => {
    const escaped = parseProperties(kafkaServerProperties({ brokerPort: 1, controllerPort: 2, dataDir: 'C:\\kafka' }));
    expect(escaped.get('log.dirs')).toBe('C:\\\\kafka');
  });
});

describe('kafkaVersion', () => {
  it('reads the pinned kafka.version property of the pom', () => {
    expect(kafkaVersion('<properties><kafka.version> 4.4.0 </kafka.version></properties>')).toBe('4.4.0');
  });

  it('pins a 4.x release in ops/kafka/pom.xml', () => {
    expect(kafkaVersion()).toMatch(/^4\.\d+\.\d+$/);
  });

  it('fails on a pom without the property', () => {
    expect(() => kafkaVersion('<project/>')).toThrow(/kafka\.version/);
  });
});

describe('newClusterId', () => {
  it('is 16 bytes in unpadded base64url (22 characters)', () => {
    const id = newClusterId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });

  it('never starts with "-", which the formatter would parse as an option', () => {
    const draws = [Buffer.alloc(16, 0xfb), Buffer.alloc(16, 0x01)]; // 0xfb… encodes to "-…"
    const id = newClusterId(() => draws.shift() ?? Buffer.alloc(16, 2));
    expect(Buffer.alloc(16, 0xfb).toString('base64url').startsWith('-')).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
  });
});

describe('kafkaJvmArgs', () => {
  it('caps the heap at 512 MB and puts every jar of the cache on the classpath', () => {
    const args = kafkaJvmArgs({ log4jFile: '/c/log4j2.properties', logDir: '/l', libsDir: '/cache/libs' });
    expect(args).toContain('-Xmx512m');
    expect(args[args.indexOf('-cp') + 1]).toBe('/cache/libs/*');
    expect(args).toContain('-Dlog4j2.configurationFile=/c/log4j2.properties');
  });
});

describe('parseJavaMajor', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_292"', 8],
  ])('%s → %i', (output, major) => {
    expect(parseJavaMajor(output)).toBe(major);
  });

  it('is undefined for output without a version', () => {
    expect(parseJavaMajor('bash: java: command not found')).toBeUndefined();
  });
});
