import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../../common/config.ts';
import { repoRoot } from '../../../ops/paths.ts';

// docker-compose.yml cannot be run here (no container engine), so its
// references are checked instead: files, CLI commands, ports, variable names,
// and that auth is on with every secret from .env.

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  secrets?: Array<string | { source: string; target?: string }>;
  ports?: Array<string | number>;
  deploy?: { replicas?: number };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
}

const composeText = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
// `merge`: the file shares environment blocks with YAML merge keys (<<), as compose does.
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);

function commandOf(service: ComposeService): string[] {
  if (service.command === undefined) return [];
  return Array.isArray(service.command) ? service.command : service.command.split(/\s+/);
}

function envNames(service: ComposeService): string[] {
  const env = service.environment ?? {};
  return Array.isArray(env) ? env.map((entry) => entry.split('=')[0]) : Object.keys(env);
}

/** Short volume syntax: SOURCE:TARGET[:MODE]; a source starting with . or / is a host path, otherwise a named volume. */
function volumeSources(service: ComposeService): string[] {
  return (service.volumes ?? []).map((volume) =>
    typeof volume === 'string' ? volume.split(':')[0] : (volume.source ?? ''),
  );
}

const isHostPath = (source: string) => source.startsWith('.') || source.startsWith('/');

/** The folder of the user-made secrets (TLS material) that README says how to make; not in the repo. */
const SECRETS_DIR = './secrets/';

function envOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((entry) => entry.split(/=(.*)/s).slice(0, 2)));
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, String(value ?? '')]));
}

/** `${NAME:?message}` is the only interpolation allowed: compose stops when NAME is unset or empty. */
const REQUIRED = /\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}/g;

/** The names a value interpolates, all in the required form. */
function requiredVariables(value: string): string[] {
  return [...value.matchAll(REQUIRED)].map((match) => match[1]);
}

/** The one variable a value is made of, e.g. `${WSN_INFLUX_PASSWORD:?…}` → WSN_INFLUX_PASSWORD. */
function onlyVariable(value: string | undefined): string | undefined {
  const match = /^\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}$/.exec(value ?? '');
  return match?.[1];
}

/** The value as compose would pass it, with every variable set to `<NAME>`. */
const interpolated = (value: string) => value.replace(REQUIRED, (_, name: string) => `<${name}>`);

function secretNames(service: ComposeService): string[] {
  return (service.secrets ?? []).map((secret) => (typeof secret === 'string' ? secret : secret.source));
}

/** Every string value of the file (comments are not interpolated, so they do not count). */
function stringsOf(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(stringsOf);
  if (node !== null && typeof node === 'object') return Object.values(node).flatMap(stringsOf);
  return [];
}
const composeValues = stringsOf(compose);

const wsnServices = services.filter(([, service]) => service.build !== undefined);
const gitignore = readFileSync(path.join(repoRoot, '.gitignore'), 'utf8').split('\n');
const dockerignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');

function properties(relative: string): Map<string, string> {
  const lines = readFileSync(path.join(repoRoot, relative), 'utf8').split('\n');
  const entries = lines
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string]);
  return new Map(entries);
}

/** How the apache/kafka image names a property as a variable: KAFKA_ + dots to _, _ to __, - to ___. */
const kafkaVariable = (property: string) =>
  `KAFKA_${property.replace(/-/g, '___').replace(/_/g, '__').replace(/\./g, '_').toUpperCase()}`;

describe('docker-compose.yml', () => {
  it('has the production stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'alertmanager',
      'detector',
      'grafana',
      'influxdb',
      'ingest',
      'kafka',
    ]);
    expect(compose.services.detector.deploy?.replicas).toBe(2);
  });

  it('builds the wsn-watch services from a Dockerfile in the repo', () => {
    for (const [name, service] of services.filter(([, s]) => s.build !== undefined)) {
      const build = typeof service.build === 'string' ? { context: service.build } : (service.build ?? {});
      const dockerfile = path.join(repoRoot, build.context ?? '.', build.dockerfile ?? 'Dockerfile');
      expect(existsSync(dockerfile), `${name}: ${path.relative(repoRoot, dockerfile)} exists`).toBe(true);
    }
  });

  it('runs wsn-watch commands that the CLI has', async () => {
    // Imported here, not at the top: the CLI pulls in every module, and a
    // module still in progress elsewhere should fail this test, not the file.
    const { buildProgram } = await import('../../../bin/cli.ts');
    const topLevel = new Set(buildProgram().commands.map((command) => command.name()));
    const nodeServices = services.filter(([, s]) => commandOf(s)[0] === 'node');
    expect(nodeServices.map(([name]) => name).sort()).toEqual(['detector', 'ingest']);
    for (const [name, service] of nodeServices) {
      const [, script, subcommand] = commandOf(service);
      expect(existsSync(path.join(repoRoot, script)), `${name}: ${script} exists`).toBe(true);
      expect(topLevel.has(subcommand), `${name}: \`wsn-watch ${subcommand}\` is a command of buildProgram()`).toBe(
        true,
      );
    }
  });

  it('mounts only host paths that exist in the repo, and declares every named volume', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, service] of services) {
      for (const source of volumeSources(service)) {
        if (isHostPath(source)) {
          expect(source.startsWith('/'), `${name}: ${source} is relative to the repo, not a machine path`).toBe(false);
          expect(
            source.startsWith(SECRETS_DIR),
            `${name}: ${source} is not a secret; secrets are compose secrets`,
          ).toBe(false);
          expect(existsSync(path.join(repoRoot, source)), `${name}: host path ${source} exists`).toBe(true);
        } else {
          expect(declared.has(source), `${name}: named volume ${source} is declared`).toBe(true);
        }
      }
    }
  });

  it('publishes ports as valid mappings on the loopback interface only', () => {
    const mapping = /^127\.0\.0\.1:(\d+):(\d+)(\/tcp)?$/;
    const published: number[] = [];
    for (const [name, service] of services) {
      for (const port of service.ports ?? []) {
        const match = mapping.exec(String(port));
        expect(match, `${name}: port "${port}" is 127.0.0.1:HOST:CONTAINER`).not.toBeNull();
        const [host, container] = [Number(match![1]), Number(match![2])];
        for (const value of [host, container])
          expect(value >= 1 && value <= 65535, `${name}: ${value} is a port`).toBe(true);
        published.push(host);
      }
    }
    expect(new Set(published).size).toBe(published.length); // no host port published twice
  });

  it('sets only environment variables each image reads', () => {
    const known = new Set(Object.keys(ENV_VARS));
    const datasource = readFileSync(
      path.join(repoRoot, 'dashboards/grafana/provisioning/datasources/influxdb.yml'),
      'utf8',
    );
    const grafanaReads = new Set([...datasource.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]));
    const kafkaProperties = properties('ops/kafka/docker/server.properties');
    const reads: Record<string, (variable: string) => boolean> = {
      // wsn-watch reads its WSN_* names and no others.
      ingest: (variable) => known.has(variable),
      detector: (variable) => known.has(variable),
      grafana: (variable) => variable.startsWith('GF_') || grafanaReads.has(variable),
      influxdb: (variable) => variable.startsWith('INFLUXDB_'),
      // Only SASL users per listener: everything else is in the mounted server.properties.
      kafka: (variable) =>
        [...kafkaProperties.keys()].length > 0 && /^KAFKA_LISTENER_NAME_[A-Z]+_PLAIN_SASL_JAAS_CONFIG$/.test(variable),
    };
    for (const [name, service] of services) {
      for (const variable of envNames(service)) {
        expect(reads[name], `${name}: has a list of the variables its image reads`).toBeDefined();
        expect(reads[name](variable), `${name}: ${variable} is a variable its image reads`).toBe(true);
      }
    }
    // The datasource's own variables are wsn-watch's names, so one environment serves both.
    for (const variable of grafanaReads) expect(known.has(variable), `${variable} is in ENV_VARS`).toBe(true);
  });

  it('interpolates only required variables (${NAME:?…}): no default, no bare $NAME', () => {
    const withoutEscapes = composeValues.map((value) => value.replace(/\$\$/g, '')).join('\n');
    const all = [...withoutEscapes.matchAll(/\$\{[^}]*\}|\$[A-Za-z_]\w*/g)].map((match) => match[0]);
    expect(all.length).toBeGreaterThan(0);
    for (const expression of all)
      expect(expression, `${expression} is \${NAME:?message}`).toMatch(/^\$\{[A-Za-z_]\w*:\?[^}]+\}$/);
  });

  it('takes every password and user name from .env, never a literal', () => {
    const credential = /PASSWORD|USER|SECRET|TOKEN|JAAS/;
    let checked = 0;
    for (const [name, service] of services) {
      for (const [variable, value] of Object.entries(envOf(service))) {
        if (!credential.test(variable)) continue;
        checked++;
        // What is left once the required variables are taken out must hold no secret: only JAAS syntax.
        const literal = value.replace(REQUIRED, '');
        expect(requiredVariables(value).length, `${name}: ${variable} comes from .env`).toBeGreaterThan(0);
        expect(literal, `${name}: ${variable} has no literal user or password`).not.toMatch(
          /(username|password)="[^"]|user_\w/,
        );
      }
    }
    expect(checked).toBeGreaterThanOrEqual(14);
  });

  it('runs InfluxDB with auth, an admin from .env, and gives each client its own user', () => {
    const influx = envOf(compose.services.influxdb);
    expect(influx.INFLUXDB_HTTP_AUTH_ENABLED).toBe('true');
    for (const variable of ['INFLUXDB_ADMIN_USER', 'INFLUXDB_ADMIN_PASSWORD'])
      expect(onlyVariable(influx[variable]), `influxdb: ${variable} from .env`).toBeDefined();
    for (const [name] of wsnServices) {
      const env = envOf(compose.services[name]);
      expect(onlyVariable(env.WSN_INFLUX_USERNAME), `${name}: the user the image creates`).toBe(
        onlyVariable(influx.INFLUXDB_USER),
      );
      expect(onlyVariable(env.WSN_INFLUX_PASSWORD)).toBe(onlyVariable(influx.INFLUXDB_USER_PASSWORD));
    }
    // Grafana only reads: the image's read-only user.
    const grafana = envOf(compose.services.grafana);
    expect(onlyVariable(grafana.WSN_INFLUX_USERNAME)).toBe(onlyVariable(influx.INFLUXDB_READ_USER));
    expect(onlyVariable(grafana.WSN_INFLUX_PASSWORD)).toBe(onlyVariable(influx.INFLUXDB_READ_USER_PASSWORD));
    const datasource = readFileSync(
      path.join(repoRoot, 'dashboards/grafana/provisioning/datasources/influxdb.yml'),
      'utf8',
    );
    const [source] = (parse(datasource) as { datasources: Array<Record<string, unknown>> }).datasources;
    expect(source).toMatchObject({
      user: '${WSN_INFLUX_USERNAME}',
      secureJsonData: { password: '${WSN_INFLUX_PASSWORD}' },
    });
  });

  it('lifts the InfluxDB limits that would refuse the points of networks over 100,000 nodes', () => {
    const influx = envOf(compose.services.influxdb);
    expect(influx.INFLUXDB_DATA_MAX_VALUES_PER_TAG).toBe('0');
    expect(influx.INFLUXDB_DATA_MAX_SERIES_PER_DATABASE).toBe('0');
  });

  it("sets Grafana's admin password from .env", () => {
    const grafana = envOf(compose.services.grafana);
    expect(onlyVariable(grafana.GF_SECURITY_ADMIN_PASSWORD)).toBeDefined();
    expect(onlyVariable(grafana.GF_SECURITY_ADMIN_USER)).toBeDefined();
  });

  it('runs Kafka with SASL inside TLS on every listener a client can reach, users from .env', () => {
    const props = properties('ops/kafka/docker/server.properties');
    const protocols = new Map(
      (props.get('listener.security.protocol.map') ?? '')
        .split(',')
        .map((entry) => entry.split(':') as [string, string]),
    );
    const controller = props.get('controller.listener.names');
    // The controller listener is bound to the container's loopback; every other one is SASL_SSL.
    expect(props.get('listeners')).toMatch(new RegExp(`${controller}://localhost:\\d+`));
    const clientListeners = [...protocols.keys()].filter((listener) => listener !== controller);
    expect(clientListeners.length).toBeGreaterThan(0);
    for (const listener of clientListeners) expect(protocols.get(listener), listener).toBe('SASL_SSL');
    expect(props.get('sasl.enabled.mechanisms')).toBe('PLAIN');
    expect(props.get('sasl.mechanism.inter.broker.protocol')).toBe('PLAIN');
    // TLS material is mounted from compose secrets, which come from the git-ignored secrets folder.
    const kafka = compose.services.kafka;
    for (const property of ['ssl.keystore.location', 'ssl.truststore.location']) {
      const location = props.get(property) ?? '';
      const secret = /^\/run\/secrets\/([\w-]+)$/.exec(location)?.[1];
      expect(secret, `${property} is a compose secret`).toBeDefined();
      expect(secretNames(kafka), `kafka mounts the secret ${secret}`).toContain(secret);
    }
    // One JAAS line per client listener, with the wsn-watch user among its users.
    const env = envOf(kafka);
    const wsn = envOf(compose.services.detector);
    const wsnUser = onlyVariable(wsn.WSN_KAFKA_SASL_USERNAME);
    const wsnPassword = onlyVariable(wsn.WSN_KAFKA_SASL_PASSWORD);
    for (const listener of clientListeners) {
      const jaas = env[kafkaVariable(`listener.name.${listener.toLowerCase()}.plain.sasl.jaas.config`)];
      expect(jaas, `kafka: JAAS of listener ${listener}`).toBeDefined();
      expect(interpolated(jaas)).toMatch(/^org\.apache\.kafka\.common\.security\.plain\.PlainLoginModule required /);
      expect(interpolated(jaas)).toContain(`user_<${wsnUser}>="<${wsnPassword}>"`);
      expect(interpolated(jaas)).toMatch(/;$/);
    }
  });

  it('configures every wsn-watch service for that Kafka and InfluxDB through variables wsn-watch reads', () => {
    const files = new Set(Object.keys(compose.secrets ?? {}));
    for (const [name, service] of wsnServices) {
      const env = envOf(service);
      const config = loadConfig({ env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolated(v)])) });
      expect(config.kafka.sasl, name).toEqual({
        mechanism: 'plain',
        username: `<${onlyVariable(env.WSN_KAFKA_SASL_USERNAME)}>`,
        password: `<${onlyVariable(env.WSN_KAFKA_SASL_PASSWORD)}>`,
      });
      expect(config.kafka.brokers, name).toEqual(['kafka:19092']);
      const ca = /^\/run\/secrets\/([\w-]+)$/.exec(
        typeof config.kafka.ssl === 'object' ? (config.kafka.ssl.ca ?? '') : '',
      )?.[1];
      expect(ca, `${name}: kafka.ssl.ca is a compose secret`).toBeDefined();
      expect(secretNames(service), `${name} mounts ${ca}`).toContain(ca);
      expect(files.has(ca!), `secret ${ca} is declared`).toBe(true);
      expect(config.influx.username, name).toBeDefined();
      expect(config.influx.password, name).toBeDefined();
    }
  });

  it('declares secrets as files of the git-ignored, docker-ignored secrets folder', () => {
    expect(gitignore).toContain('/secrets/');
    expect(dockerignore).toContain('secrets');
    const declared = compose.secrets ?? {};
    expect(Object.keys(declared).length).toBeGreaterThan(0);
    for (const [name, secret] of Object.entries(declared))
      expect(secret.file, `secret ${name}`).toMatch(/^\.\/secrets\/[\w./-]+$/);
    for (const [name, service] of services) {
      for (const secret of secretNames(service))
        expect(Object.keys(declared), `${name}: secret ${secret} is declared`).toContain(secret);
    }
  });

  it('.env.example lists every variable with an empty value, so compose refuses to start on it; .env is ignored', () => {
    const example = readFileSync(path.join(repoRoot, '.env.example'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    const listed = example.map((line) => line.slice(0, line.indexOf('=')));
    const used = [...new Set(composeValues.flatMap(requiredVariables))].sort();
    expect([...listed].sort()).toEqual(used);
    for (const line of example) expect(line, 'no value: compose refuses an empty required variable').toMatch(/^\w+=$/);
    expect(gitignore).toContain('/.env');
    expect(dockerignore).toContain('.env');
  });
});
