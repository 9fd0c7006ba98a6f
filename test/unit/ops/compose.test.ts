import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../../common/config.ts';
import { repoRoot } from '../../../ops/paths.ts';

// docker-compose.yml cannot be run here (no container engine), so its
// references are checked instead: files, CLI commands, ports, variable names.

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  ports?: Array<string | number>;
  deploy?: { replicas?: number };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8')) as ComposeFile;
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

  it('sets only environment variables that wsn-watch reads (ENV_VARS)', () => {
    const known = new Set(Object.keys(ENV_VARS));
    for (const [name, service] of services) {
      for (const variable of envNames(service))
        expect(known.has(variable), `${name}: ${variable} is in ENV_VARS`).toBe(true);
    }
  });
});
