import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRunning, readRunRecord, spawnDetached, stopProcess, writeRunRecord } from '../../../ops/process.ts';
import { waitFor } from '../../support/wait.ts';

// Real processes (sleep, bash): the behaviour under test is the OS's.
const dir = mkdtempSync(path.join(tmpdir(), 'wsn-ops-process-'));
const started: number[] = [];

afterAll(async () => {
  for (const pid of started) await stopProcess(pid, 100);
  rmSync(dir, { recursive: true, force: true });
});

describe('spawnDetached / stopProcess', () => {
  it('starts a process in its own session, writes its output to the file, and stops it with SIGTERM', async () => {
    const marker = path.join(dir, 'marker-a');
    const outputFile = path.join(dir, 'a.log');
    // `exit 0` keeps bash alive (it would exec the last command, and the marker in its argv would go).
    const pid = await spawnDetached({
      command: 'bash',
      args: ['-c', 'echo hello; sleep 30; exit 0', marker],
      cwd: dir,
      outputFile,
    });
    started.push(pid);
    expect(isRunning(pid, marker)).toBe(true);
    // Its own process group: detached processes lead a new session.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[2])).toBe(pid); // pgrp
    await waitFor('its output in the file', () => readFileSync(outputFile, 'utf8').includes('hello'), 2_500);
    expect(readFileSync(outputFile, 'utf8')).toContain('hello');

    expect(await stopProcess(pid, 5_000, marker)).toEqual({ outcome: 'terminated' });
    expect(isRunning(pid)).toBe(false);
  });

  it('does not take a live process without the marker for ours', async () => {
    const pid = await spawnDetached({ command: 'sleep', args: ['30'], cwd: dir, outputFile: path.join(dir, 'b.log') });
    started.push(pid);
    expect(isRunning(pid)).toBe(true);
    expect(isRunning(pid, '/no/such/config')).toBe(false);
    expect(await stopProcess(pid, 1_000, '/no/such/config')).toEqual({ outcome: 'not-running' });
    expect(isRunning(pid)).toBe(true);
  });

  it('kills a process that ignores SIGTERM after the grace period', async () => {
    const pid = await spawnDetached({
      command: 'bash',
      args: ['-c', 'trap "" TERM; sleep 30 & wait'],
      cwd: dir,
      outputFile: path.join(dir, 'c.log'),
    });
    started.push(pid);
    await new Promise((r) => setTimeout(r, 200)); // let bash install the trap
    expect(await stopProcess(pid, 300)).toEqual({ outcome: 'killed' });
    expect(isRunning(pid)).toBe(false);
  });

  it('rejects when the program does not exist', async () => {
    await expect(
      spawnDetached({ command: path.join(dir, 'missing'), args: [], cwd: dir, outputFile: path.join(dir, 'd.log') }),
    ).rejects.toThrow(/ENOENT/);
  });
});

describe('run records', () => {
  it('round-trips and treats a torn file as absent', () => {
    const file = path.join(dir, 'run.json');
    const record = {
      pid: 123,
      version: '4.4.0',
      startedAt: '2026-01-01T00:00:00.000Z',
      marker: '/s/config',
      logFile: '/s/l',
      outputFile: '/s/o',
    };
    writeRunRecord(file, record);
    expect(readRunRecord(file)).toEqual(record);
    writeRunRecord(file, { ...record, pid: -1 });
    expect(readRunRecord(file)).toBeUndefined();
    expect(readRunRecord(path.join(dir, 'absent.json'))).toBeUndefined();
  });
});
