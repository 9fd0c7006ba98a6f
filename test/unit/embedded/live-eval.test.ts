import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseEvents } from '../../../embedded/backtest/events.ts';
import { registerLiveEvalCommand } from '../../../embedded/live-eval/cli.ts';
import { parseSyntheticSource } from '../../../embedded/live-eval/datasets.ts';
import { LIVE_FAULT_KINDS } from '../../../sources/live-faults.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wsn-eval-live-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('wsn-watch eval live', () => {
  it(
    'injects every taxonomy kind into the synthetic network, runs backtest and writes the events files and the tables',
    { timeout: 480_000 },
    async () => {
      const root = new Command('wsn-watch').exitOverride();
      registerLiveEvalCommand(root);
      const stderr: string[] = [];
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
      const tables = path.join(dir, 'tables.md');
      try {
        await root.parseAsync([
          'node',
          'wsn-watch',
          'eval',
          'live',
          '--datasets',
          'synthetic',
          '--seeds',
          '4',
          '--runs-per-seed',
          '1',
          '--test-days',
          '2',
          '--work-dir',
          dir,
          '--out',
          tables,
          '--title',
          'test run',
        ]);
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
      // Progress of every backtest reached stderr.
      expect(stderr.join('')).toMatch(/synthetic clean: backtest: 100% /);
      expect(stderr.join('')).toMatch(/synthetic seed 4 run 1: backtest: 100% /);

      const events = parseEvents(await readFile(path.join(dir, 'synthetic-seed4-run1-events.csv'), 'utf8'));
      expect(new Set(events.map((e) => e.kind))).toEqual(new Set(LIVE_FAULT_KINDS));
      for (let i = 1; i < events.length; i++) expect(events[i].start).toBeGreaterThan(events[i - 1].end);
      expect((await readdir(dir)).filter((f) => f.endsWith('-alerts.csv')).sort()).toEqual([
        'synthetic-clean-alerts.csv',
        'synthetic-seed-4-run-1-alerts.csv',
      ]);

      const text = await readFile(tables, 'utf8');
      expect(text.startsWith('test run\n')).toBe(true);
      const rows = text.split('\n').filter((line) => line.startsWith('| '));
      for (const kind of LIVE_FAULT_KINDS)
        expect(rows.some((row) => row.startsWith(`| ${kind} | 1 | `) && / \| \d\.\d\d ± /.test(row))).toBe(true);
      // A dropout (15 minutes of silence at a time) is alerted by the tracker's silence rule, for every scorer alike.
      const dropout = rows
        .find((row) => row.startsWith('| dropout |'))!
        .split('|')
        .map((cell) => cell.trim());
      expect([dropout[3], dropout[8], dropout[13]]).toEqual(['1.00 ± 0.00', '1.00 ± 0.00', '1.00 ± 0.00']);
      // Localization both ways side by side, and the other nodes' alerts split by the clean run.
      expect(text).toContain('| default localization, strict | default localization, fault-caused |');
      const otherAlerts = rows.find((row) => row.startsWith('| kind | default new | default background |'));
      expect(otherAlerts).toBeDefined();
      for (const kind of LIVE_FAULT_KINDS)
        expect(rows.filter((row) => new RegExp(`^\\| ${kind} \\| \\d+ \\| \\d+ \\|`).test(row))).toHaveLength(1);
      for (const scorer of ['default', 'rolling-zscore', 'neighbour-median'])
        expect(rows.some((row) => row.startsWith(`| ${scorer} | `) && /node-days\) \|/.test(row))).toBe(true);
    },
  );

  it('continues the synthetic network a model was trained on, read from its data source', () => {
    expect(parseSyntheticSource('synthetic:nodes=12,steps=2000,seed=1')).toEqual({ nodes: 12, steps: 2000, seed: 1 });
    expect(parseSyntheticSource('synthetic:nodes=48,steps=3000,seed=1,loss=0.03')).toEqual({
      nodes: 48,
      steps: 3000,
      seed: 1,
      loss: 0.03,
    });
    expect(parseSyntheticSource('ibrl:../shared/data/ibrl')).toBeUndefined();
    expect(parseSyntheticSource(undefined)).toBeUndefined();
  });
});
