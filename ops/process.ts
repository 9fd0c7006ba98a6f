import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * What `services up` remembers about a process it started, in the service's
 * run.json: enough for `status` and `down` in a later CLI invocation.
 */
export const RunRecordSchema = z.object({
  pid: z.number().int().positive(),
  version: z.string(),
  startedAt: z.string(),
  /**
   * A string of the process's command line (its config folder), compared with
   * /proc/<pid>/cmdline so that a recycled pid, or the same service started
   * from another state folder, is not taken for ours.
   */
  marker: z.string(),
  logFile: z.string(),
  /** stdout/stderr of the process (start-up failures of the JVM end up here). */
  outputFile: z.string(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

export function readRunRecord(file: string): RunRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = RunRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // a torn or hand-edited file: treat as "nothing running"
  }
}

export function writeRunRecord(file: string, record: RunRecord): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

export function removeRunRecord(file: string): void {
  rmSync(file, { force: true });
}

/**
 * True when `pid` is a live (non-zombie) process whose command line contains
 * `marker`. Without /proc (not Linux) only liveness is checked.
 */
export function isRunning(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: it exists but belongs to another user, so it is not ours either.
    return false;
  }
  const procDir = `/proc/${pid}`;
  if (!existsSync(procDir)) return true;
  try {
    const stat = readFileSync(`${procDir}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    if (marker === undefined) return true;
    return readFileSync(`${procDir}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false; // it exited between the checks
  }
}

export interface DetachedLaunch {
  command: string;
  args: string[];
  cwd: string;
  /** stdout and stderr of the process are appended here. */
  outputFile: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a process that outlives this CLI: its own session (setsid), stdio to
 * a file, and unref'd so Node does not wait for it. Resolves with its pid once
 * the OS has started it; rejects if it could not be started at all.
 */
export function spawnDetached(launch: DetachedLaunch): Promise<number> {
  mkdirSync(path.dirname(launch.outputFile), { recursive: true });
  const fd = openSync(launch.outputFile, 'a');
  try {
    const child = spawn(launch.command, launch.args, {
      cwd: launch.cwd,
      env: launch.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        child.unref();
        if (child.pid === undefined) reject(new Error(`${launch.command} started without a pid`));
        else resolve(child.pid);
      });
    });
  } finally {
    closeSync(fd); // the child holds its own copy of the descriptor
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a signal to the process group led by `pid` (detached processes lead their own), falling back to the pid. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export interface StopResult {
  /** How it ended: it exited on SIGTERM, needed SIGKILL, or was not running. */
  outcome: 'terminated' | 'killed' | 'not-running';
}

/** SIGTERM, then SIGKILL if the process is still alive after `graceMs`. */
export async function stopProcess(pid: number, graceMs: number, marker?: string): Promise<StopResult> {
  if (!isRunning(pid, marker)) return { outcome: 'not-running' };
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return { outcome: 'terminated' };
    await sleep(100);
  }
  signalGroup(pid, 'SIGKILL');
  for (let i = 0; i < 50 && isRunning(pid); i += 1) await sleep(100);
  return { outcome: 'killed' };
}
