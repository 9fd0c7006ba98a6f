import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerBacktestCommand } from '../../../../embedded/backtest/cli.ts';
import { generateSyntheticNetwork } from '../../../../sources/synthetic.ts';

const TICK_MS = 31_000;
/** A UTC-aligned start, like ingest's tick grid. */
const START = Date.UTC(2025, 0, 1);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wsn-backtest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function program(): Command {
  const root = new Command('wsn-watch').exitOverride();
  registerBacktestCommand(root);
  for (const command of root.commands) command.exitOverride();
  return root;
}

/** Runs the command, returning what it printed on stdout and stderr. */
async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  try {
    await program().parseAsync(['node', 'wsn-watch', 'backtest', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout: stdout.join(''), stderr: stderr.join('') };
}

/**
 * The network models/default was trained on (12 synthetic nodes), written as
 * a user's CSV: readings a few seconds off the tick grid, node 5 silent for
 * 40 ticks (20 minutes, longer than ingest's silence limit), 9 joining late,
 * humidity empty on every 7th row, one row with no value at all, and a
 * large temperature offset on 3 from tick 150 on.
 */
async function historyCsv(file: string, { offset = true } = {}): Promise<void> {
  const steps = 260;
  const { series } = generateSyntheticNetwork({ nodes: 12, steps, seed: 3 });
  const lines = ['node,ts,temperature,humidity,voltage'];
  let row = 0;
  for (let t = 0; t < steps; t++) {
    series.nodes.forEach((node, n) => {
      if (node === '5' && t >= 100 && t < 140) return;
      if (node === '9' && t < 30) return;
      const value = (m: number) => series.data[(t * series.nodes.length + n) * series.modalities.length + m];
      const temperature = value(0) + (offset && node === '3' && t >= 150 ? 8 : 0);
      const humidity = ++row % 7 === 0 ? '' : value(1).toFixed(3);
      const ts = new Date(START + t * TICK_MS + 3_000 + n * 500).toISOString();
      lines.push(`${node},${ts},${temperature.toFixed(3)},${humidity},${value(2).toFixed(4)}`);
    });
  }
  lines.push(`s1,${new Date(START + 10 * TICK_MS).toISOString()},,,`);
  await writeFile(file, lines.join('\n') + '\n');
}

describe('wsn-watch backtest', () => {
  it('runs a CSV with gaps, a late node and empty fields through the live path and writes scores and alerts', async () => {
    const history = path.join(dir, 'history.csv');
    await historyCsv(history);
    const scores = path.join(dir, 'scores.csv');
    const alerts = path.join(dir, 'alerts.csv');
    const events = path.join(dir, 'events.csv');
    await writeFile(
      events,
      `node,modality,start,end,kind\n3,temperature,${new Date(START + 150 * TICK_MS).toISOString()},${START + 259 * TICK_MS},offset\n`,
    );
    const report = path.join(dir, 'report.json');
    const { stdout, stderr } = await run([
      '--history',
      history,
      '--model',
      'models/default',
      '--tick-ms',
      String(TICK_MS),
      '--out',
      scores,
      '--alerts',
      alerts,
      '--events',
      events,
      '--report',
      report,
    ]);

    expect(stderr).toContain('1 row(s) without any value skipped');
    expect(stderr).toMatch(/backtest: 100% \(\d+ of \d+ readings\)/);
    expect(stdout).toMatch(/backtest: 26\d ticks/);
    expect(stdout).toContain('0 rejected');

    const scoreLines = (await readFile(scores, 'utf8')).trim().split('\n');
    expect(scoreLines[0]).toBe(
      'tick,node,cluster,probability,error_temperature,error_humidity,error_voltage,is_anomaly',
    );
    const rows = scoreLines.slice(1).map((line) => line.split(','));
    // Every node is scored, the one with a gap and the late one included, on the UTC tick grid.
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set(Array.from({ length: 12 }, (_, i) => `${i + 1}`)));
    for (const r of rows) {
      expect(Date.parse(r[0]) % TICK_MS).toBe(0);
      expect(Number(r[3])).toBeGreaterThanOrEqual(0);
      expect(Number(r[3])).toBeLessThanOrEqual(1);
    }

    const alertRows = (await readFile(alerts, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    // Node 5's 20-minute gap is reported as silence by the tracker, not refused.
    expect(alertRows.some((r) => r[0] === 'models/default'.split('/')[1] && r[1] === '5' && r[3] === 'silent')).toBe(
      true,
    );

    const json = JSON.parse(await readFile(report, 'utf8')) as {
      scorers: Array<{ name: string; metrics: { all: { events: number } } }>;
    };
    expect(json.scorers.map((s) => s.name)).toEqual(['default', 'rolling-zscore', 'neighbour-median']);
    expect(json.scorers.every((s) => s.metrics.all.events === 1)).toBe(true);
    // The threshold in force is the one stored with the model, following its false-alert budget on the stream.
    const stored = (
      JSON.parse(await readFile('models/default/model.json', 'utf8')) as { metadata: { threshold: number } }
    ).metadata.threshold;
    expect(stdout).toMatch(
      new RegExp(
        `default \\(threshold ${stored.toFixed(3)}(, 0\\.\\d{3} at the end by the false-alert budget| \\(the false-alert budget did not raise it\\))\\): event recall`,
      ),
    );
    expect(stderr).toContain('rises above it while healthy nodes score higher');
  });

  it('reads the same history as JSON lines and scores it the same', async () => {
    const csv = path.join(dir, 'same.csv');
    await historyCsv(csv);
    const [header, ...rows] = (await readFile(csv, 'utf8')).trim().split('\n');
    const columns = header.split(',');
    // One reading per line, fields at top level or under "values", empty fields left out.
    const jsonl = rows.map((row, i) => {
      const cells = row.split(',');
      const values = Object.fromEntries(
        columns.slice(2).flatMap((m, k) => (cells[k + 2] === '' ? [] : [[m, Number(cells[k + 2])]])),
      );
      return JSON.stringify(
        i % 2 ? { node: cells[0], ts: cells[1], values } : { node: cells[0], ts: Date.parse(cells[1]), ...values },
      );
    });
    const lines = path.join(dir, 'same.jsonl');
    await writeFile(lines, jsonl.join('\n') + '\n');
    const fromCsv = path.join(dir, 'same-csv-scores.csv');
    const fromJsonl = path.join(dir, 'same-jsonl-scores.csv');
    await run(['--history', csv, '--model', 'models/default', '--tick-ms', String(TICK_MS), '--out', fromCsv]);
    await run(['--history', lines, '--model', 'models/default', '--tick-ms', String(TICK_MS), '--out', fromJsonl]);
    const scores = await readFile(fromCsv, 'utf8');
    expect(scores.split('\n').length).toBeGreaterThan(12 * 200);
    expect(await readFile(fromJsonl, 'utf8')).toBe(scores);
  });

  it('names the line and field of a bad value', async () => {
    const history = path.join(dir, 'bad.csv');
    await writeFile(
      history,
      'node,ts,temperature,humidity,voltage\ns1,2025-01-01T00:00:00Z,21,40,2.6\ns2,2025-01-01T00:00:01Z,21,forty,2.6\n',
    );
    await expect(run(['--history', history, '--model', 'models/default'])).rejects.toThrow(
      /bad\.csv:3: field "humidity" is "forty", not a number/,
    );
  });

  it('refuses an events file with a bad time, naming the line', async () => {
    const history = path.join(dir, 'history2.csv');
    await historyCsv(history);
    const events = path.join(dir, 'bad-events.csv');
    await writeFile(events, 'node,modality,start,end,kind\n3,temperature,yesterday,2025-01-01T01:00:00Z,offset\n');
    await expect(run(['--history', history, '--model', 'models/default', '--events', events])).rejects.toThrow(
      /bad-events\.csv:2: start "yesterday" is not a time/,
    );
  });

  it("with --clean-alerts, tells the other nodes' background alerts from the ones the fault caused", async () => {
    const clean = path.join(dir, 'clean.csv');
    const faulty = path.join(dir, 'faulty.csv');
    await historyCsv(clean, { offset: false });
    await historyCsv(faulty);
    const events = path.join(dir, 'offset-events.csv');
    await writeFile(
      events,
      `node,modality,start,end,kind\n3,temperature,${new Date(START + 150 * TICK_MS).toISOString()},${START + 259 * TICK_MS},offset\n`,
    );
    const common = ['--model', 'models/default', '--tick-ms', String(TICK_MS)];
    const cleanAlerts = path.join(dir, 'clean-alerts.csv');
    const faultyAlerts = path.join(dir, 'faulty-alerts.csv');
    await run(['--history', clean, ...common, '--alerts', cleanAlerts]);
    await expect(run(['--history', faulty, ...common, '--clean-alerts', cleanAlerts])).rejects.toThrow(
      /--clean-alerts needs --events/,
    );
    type Report = {
      scorers: Array<{
        name: string;
        metrics: {
          all: {
            detected: number;
            localization: number | null;
            localizationFaultCaused: number | null;
            otherAlerts: number;
            otherAlertsBackground: number | null;
            otherAlertsNew: number | null;
          };
        };
      }>;
    };
    const measure = async (name: string, extra: string[]): Promise<{ stdout: string; report: Report }> => {
      const report = path.join(dir, `${name}.json`);
      const { stdout } = await run(['--history', faulty, ...common, '--events', events, '--report', report, ...extra]);
      return { stdout, report: JSON.parse(await readFile(report, 'utf8')) as Report };
    };

    const strictOnly = await measure('strict-only', ['--alerts', faultyAlerts]);
    expect(strictOnly.stdout).not.toContain('fault-caused');
    for (const s of strictOnly.report.scorers)
      expect(s.metrics.all).toMatchObject({ localizationFaultCaused: null, otherAlertsNew: null });

    const paired = await measure('paired', ['--clean-alerts', cleanAlerts]);
    expect(paired.stdout).toMatch(/default \(threshold .*localization strict (\d\.\d\d|–), fault-caused (\d\.\d\d|–)/);
    for (const s of paired.report.scorers) {
      const all = s.metrics.all;
      const strict = strictOnly.report.scorers.find((x) => x.name === s.name)!.metrics.all;
      // The strict figure is the same with or without the clean run's alerts.
      expect(all.localization).toBe(strict.localization);
      expect(all.otherAlerts).toBe(strict.otherAlerts);
      expect(all.otherAlertsNew! + all.otherAlertsBackground!).toBe(all.otherAlerts);
      if (all.detected > 0) expect(all.localizationFaultCaused!).toBeGreaterThanOrEqual(all.localization!);
    }

    // Given the injected run's own alerts as the clean run's, every other-node alert is background.
    const self = await measure('self', ['--clean-alerts', faultyAlerts]);
    for (const s of self.report.scorers) {
      expect(s.metrics.all.otherAlertsNew).toBe(s.metrics.all.detected > 0 ? 0 : null);
      if (s.metrics.all.detected > 0) expect(s.metrics.all.localizationFaultCaused).toBe(1);
    }
    expect(self.report.scorers.some((s) => s.metrics.all.detected > 0)).toBe(true);
  });
});
