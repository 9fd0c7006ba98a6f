import type { ServiceDirs, ServiceName } from './paths.ts';
import type { RunRecord } from './process.ts';

/** Progress lines for humans (stderr); one short sentence each. */
export type Progress = (message: string) => void;

/** How to start a prepared service. */
export interface Launch {
  command: string;
  args: string[];
  cwd: string;
  /** stdout/stderr of the process. */
  outputFile: string;
  version: string;
}

/**
 * One service `wsn-watch services` can provision, start, probe and stop.
 * Everything it writes lives in `dirs`; it binds only 127.0.0.1.
 */
export interface ServiceDefinition {
  name: ServiceName;
  /** The address clients use, e.g. 127.0.0.1:9092. */
  address: string;
  /** Every TCP port it binds; all must be free before it starts. */
  ports: number[];
  dirs: ServiceDirs;
  /** The log a user should read when something is wrong. */
  logFile: string;
  readyTimeoutMs: number;
  /** How long `down` waits after SIGTERM before SIGKILL. */
  stopGraceMs: number;
  /** Checks the binaries, writes the config, fetches and initialises what is missing. */
  prepare(progress: Progress): Promise<Launch>;
  /** The version when the service answers its health check, undefined when it does not. */
  probe(record: RunRecord | undefined): Promise<string | undefined>;
}
