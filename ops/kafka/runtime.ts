import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../common/errors.ts';
import { requireExecutable } from '../executables.ts';
import { cacheRoot } from '../paths.ts';
import type { Progress } from '../service.ts';
import { kafkaPomFile } from './config.ts';

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a program to completion, collecting stdout+stderr (the tail is what goes into error messages). */
function run(command: string, args: string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15`; returns the feature release (17). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  // Java 8 and older print "1.8.0_…".
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** The `java` on PATH, checked to be 17 or newer (Kafka 4 brokers need 17). */
export async function requireJava(): Promise<string> {
  const java = requireExecutable(['java'], 'the Kafka broker');
  const { output } = await run(java, ['-version']);
  const major = parseJavaMajor(output);
  if (major === undefined || major < 17) {
    throw new UserError(
      'JAVA_TOO_OLD',
      `the Kafka broker needs Java 17 or newer; \`java -version\` says: ${tail(output, 1) || 'nothing'}`,
      'install a Java 17+ runtime (scripts/install-system.sh installs openjdk-17-jre-headless) and put it first on PATH',
    );
  }
  return java;
}

/** Cache folder of one Kafka version's jars, outside the repository so clones and purges share it. */
export function kafkaCacheDir(version: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), `kafka-${version}`);
}

/**
 * The folder holding the broker's jars, resolved by Maven from
 * ops/kafka/pom.xml on the first run and reused afterwards. The folder is
 * named after the pom's hash (`libs-<hash>`): a changed pom gets a new folder
 * and a broker still running from the old one (another clone, say) never has
 * its jars removed. Jars are copied to a staging folder and renamed into place,
 * so an interrupted download never looks complete.
 */
export async function ensureKafkaLibs(version: string, progress: Progress): Promise<string> {
  const dir = kafkaCacheDir(version);
  const pomHash = createHash('sha256').update(readFileSync(kafkaPomFile)).digest('hex').slice(0, 12);
  const libs = path.join(dir, `libs-${pomHash}`);
  if (existsSync(libs)) return libs;

  const mvn = requireExecutable(['mvn'], 'resolving the Kafka jars from Maven Central');
  progress(`kafka: resolving Apache Kafka ${version} jars with Maven (first run only; cached in ${dir})`);
  mkdirSync(dir, { recursive: true });
  const staging = path.join(dir, `staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const result = await run(mvn, [
    '-q',
    '-B',
    '-f',
    kafkaPomFile,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${staging}`,
  ]);
  const jars = existsSync(staging) ? readdirSync(staging).filter((name) => name.endsWith('.jar')) : [];
  if (result.code !== 0 || !jars.some((name) => name.startsWith(`kafka_2.13-${version}`))) {
    rmSync(staging, { recursive: true, force: true });
    throw new UserError(
      'KAFKA_JARS_UNRESOLVED',
      `Maven could not resolve the Kafka ${version} jars (exit code ${result.code}):\n${tail(result.output)}`,
      'check that Maven Central is reachable (proxy settings in ~/.m2/settings.xml) and that ops/kafka/pom.xml names a published version',
    );
  }
  try {
    renameSync(staging, libs);
  } catch (error) {
    // Another `services up` finished the same download first: use its copy.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(libs)) throw error;
  }
  progress(`kafka: ${jars.length} jars cached`);
  return libs;
}

/**
 * Formats the KRaft metadata log once. An existing `meta.properties` means the
 * storage is formatted already: formatting again would need the same cluster
 * id, so it is skipped (the second `up` does not touch the data).
 */
export async function formatStorageOnce(options: {
  java: string;
  libsDir: string;
  propertiesFile: string;
  dataDir: string;
  clusterId: string;
  progress: Progress;
  /** Extra `format` arguments, e.g. SCRAM credentials (scramFormatArgs). */
  extraArgs?: string[];
}): Promise<boolean> {
  if (existsSync(path.join(options.dataDir, 'meta.properties'))) return false;
  options.progress(`kafka: formatting KRaft storage (cluster id ${options.clusterId})`);
  mkdirSync(options.dataDir, { recursive: true });
  const result = await run(options.java, [
    '-Xmx256m',
    '-cp',
    `${options.libsDir}/*`,
    'kafka.tools.StorageTool',
    'format',
    '--cluster-id',
    options.clusterId,
    '--config',
    options.propertiesFile,
    ...(options.extraArgs ?? []),
  ]);
  if (result.code !== 0) {
    throw new UserError(
      'KAFKA_FORMAT_FAILED',
      `formatting the Kafka storage in ${options.dataDir} failed:\n${tail(result.output)}`,
      'remove the Kafka state with `wsn-watch services down --purge` and run `services up` again',
    );
  }
  return true;
}
