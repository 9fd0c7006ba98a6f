import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json), whatever the working directory. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The services `wsn-watch services` manages, in start order. */
export const SERVICE_NAMES = ['kafka', 'influxdb', 'alertmanager'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Where one service keeps everything it writes: all under `<stateDir>/services/<name>/`. */
export interface ServiceDirs {
  root: string;
  data: string;
  config: string;
  logs: string;
  /** Holds the pid and the facts of the running process (see ops/process-record.ts). */
  runFile: string;
}

/**
 * Resolves the configured state folder. A relative `stateDir` (the default is
 * `var`) is taken relative to the repository root, not to the working
 * directory, so `services up` from a subfolder finds the same services.
 */
export function resolveStateDir(stateDir: string): string {
  return path.resolve(repoRoot, stateDir);
}

/** The folder of all services' state: `<stateDir>/services`. `down --purge` removes it. */
export function servicesRoot(stateDir: string): string {
  return path.join(resolveStateDir(stateDir), 'services');
}

export function serviceDirs(stateDir: string, name: ServiceName): ServiceDirs {
  const root = path.join(servicesRoot(stateDir), name);
  return {
    root,
    data: path.join(root, 'data'),
    config: path.join(root, 'config'),
    logs: path.join(root, 'logs'),
    runFile: path.join(root, 'run.json'),
  };
}

/**
 * Downloads that outlive a purge (the Kafka jars) go to the user's cache, not
 * the repository: `$XDG_CACHE_HOME/wsn-watch` or `~/.cache/wsn-watch`.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homedir(), '.cache');
  return path.join(base, 'wsn-watch');
}

/** Shows a path relative to the working directory when it lies below it (shorter, and no machine paths in output). */
export function displayPath(target: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, target);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : target;
}
