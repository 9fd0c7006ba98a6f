import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDetector } from '../../../../model/io.ts';
import { registerTrainCommand } from '../../../../model/train/cli.ts';
import { generateSyntheticNetwork } from '../../../../sources/synthetic.ts';
import { computeStats, normalizeSeries } from '../../../../sources/normalize.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wsn-train-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function program(output: string[]): Command {
  const root = new Command('wsn-watch').exitOverride();
  root.configureOutput({ writeOut: (s) => output.push(s), writeErr: (s) => output.push(s) });
  registerTrainCommand(root);
  for (const command of root.commands)
    command.exitOverride().configureOutput({ writeOut: (s) => output.push(s), writeErr: (s) => output.push(s) });
  return root;
}

/** Flags of a model small enough to train in a unit test. */
const TINY_MODEL = [
  '--window',
  '8',
  '--epochs',
  '1',
  '--sequence-length',
  '2',
  '--batch-size',
  '2',
  '--windows-per-epoch',
  '8',
];

/** Runs `wsn-watch train` with `args` and TINY_MODEL, stderr silenced; returns what it printed on stdout. */
async function trainQuietly(args: string[]): Promise<string[]> {
  const stdout: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => stdout.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await program([]).parseAsync(['node', 'wsn-watch', 'train', ...args, ...TINY_MODEL]);
  } finally {
    process.stdout.write = write;
    process.stderr.write = errWrite;
  }
  return stdout;
}

describe('wsn-watch train', () => {
  it('documents every option in --help', async () => {
    const output: string[] = [];
    await expect(program(output).parseAsync(['node', 'wsn-watch', 'train', '--help'])).rejects.toMatchObject({
      code: 'commander.helpDisplayed',
    });
    const help = output.join('');
    for (const flag of [
      '--data',
      '--format',
      '--history',
      '--topology',
      '--synthetic',
      '--nodes',
      '--steps',
      '--out',
      '--seed',
      '--epochs',
      '--batch-size',
      '--window',
      '--paa-segments',
      '--paa-segment-ticks',
      '--attention-heads',
      '--attention-head-size',
      '--sequence-length',
      '--learning-rate',
      '--validation-fraction',
      '--patience',
      '--train-fraction',
      '--windows-per-epoch',
      '--max-minutes',
      '--knn',
      '--backend',
    ]) {
      expect(help).toContain(flag);
    }
  });

  it('trains a tiny synthetic model and saves one that loads and scores', async () => {
    const out = path.join(dir, 'model');
    const stdout = await trainQuietly(['--synthetic', '--nodes', '4', '--steps', '150', '--out', out]);
    expect(stdout.join('')).toMatch(/saved .*model\.json/);
    const detector = await loadDetector(out);
    expect(detector.config.window).toBe(8);
    expect(detector.metadata.training?.dataSource).toBe('synthetic:nodes=4,steps=150,seed=1');
    const network = generateSyntheticNetwork({ nodes: 4, steps: 150, seed: 1 });
    const series = normalizeSeries(network.series, computeStats(network.series));
    const scores = await detector.scoreSeries(series, 7, 20);
    expect(scores.cluster.every((p) => p > 0 && p < 1)).toBe(true);
  });

  it('stores --paa-segments / --paa-segment-ticks with the model, which is loaded and scored with them (0 segments: no PAA)', async () => {
    const network = generateSyntheticNetwork({ nodes: 4, steps: 150, seed: 1 });
    const series = normalizeSeries(network.series, computeStats(network.series));
    const m = series.modalities.length;
    const widths: number[] = [];
    for (const [segments, ticks] of [
      [3, 5],
      [0, 5],
    ]) {
      const out = path.join(dir, `paa-${segments}`);
      const write = process.stdout.write.bind(process.stdout);
      const errWrite = process.stderr.write.bind(process.stderr);
      process.stdout.write = (() => true) as typeof process.stdout.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        await program([]).parseAsync(
          ['node', 'wsn-watch', 'train', '--synthetic', '--nodes', '4', '--steps', '150', '--window', '8'].concat(
            ['--epochs', '1', '--sequence-length', '2', '--batch-size', '2', '--windows-per-epoch', '8'],
            ['--paa-segments', String(segments), '--paa-segment-ticks', String(ticks), '--out', out],
          ),
        );
      } finally {
        process.stdout.write = write;
        process.stderr.write = errWrite;
      }
      const detector = await loadDetector(out);
      expect(detector.config.context.segments).toBe(segments);
      expect(detector.config.context.segmentTicks).toBe(ticks);
      // Offline scoring computes the context with the stored PAA: segments + 6 features per node × modality.
      const context = detector.computeSeriesContext(series, 30);
      expect(context.length).toBe(30 * 4 * m * (segments + 6));
      const scores = await detector.scoreSeries(series, 7, 30);
      expect(scores.cluster.every((p) => p > 0 && p < 1)).toBe(true);
      // The live path keeps PAA state of that size and gives the same features.
      const state = detector.createState(series.nodes);
      const [live] = await detector.step([{ state, values: series.data.slice(0, 4 * m) }]);
      expect(Array.from(live.context!)).toEqual(Array.from(context.subarray(0, 4 * m * (segments + 6))));
      widths.push(live.context!.length);
      detector.dispose();
    }
    expect(widths).toEqual([4 * m * 9, 4 * m * 6]);
  });

  it('stores --attention-heads / --attention-head-size with the model, whose attention weights have that shape', async () => {
    const out = path.join(dir, 'heads');
    await trainQuietly([
      '--synthetic',
      '--nodes',
      '4',
      '--steps',
      '150',
      '--attention-heads',
      '2',
      '--attention-head-size',
      '8',
      '--out',
      out,
    ]);
    const detector = await loadDetector(out);
    expect(detector.config.gatHeads).toBe(2);
    expect(detector.config.gatHeadSize).toBe(8);
    const weights = await detector.network.exportWeights();
    const m = detector.config.modalities.length;
    expect(weights.find((w) => w.name === 'encoder/spatial1/kernel')?.shape).toEqual([m, 8, 16]);
    expect(weights.find((w) => w.name === 'decoder/attention1/attend_source')?.shape).toEqual([m, 1, 1, 2, 8]);
    detector.dispose();
  });

  it('trains from a CSV history file on a complete graph', async () => {
    const network = generateSyntheticNetwork({ nodes: 3, steps: 150, seed: 4 });
    const lines = ['node,ts,temperature,humidity,voltage'];
    for (let t = 0; t < network.series.steps; t++) {
      network.series.nodes.forEach((node, n) => {
        const v = Array.from(network.series.data.slice((t * 3 + n) * 3, (t * 3 + n) * 3 + 3)).map((x) => x.toFixed(4));
        lines.push(`${node},${new Date(Date.UTC(2024, 0, 1) + t * 60_000).toISOString()},${v.join(',')}`);
      });
    }
    const file = path.join(dir, 'history.csv');
    await writeFile(file, `${lines.join('\n')}\n`);
    const out = path.join(dir, 'history-model');
    await trainQuietly(['--history', file, '--out', out]);
    const detector = await loadDetector(out);
    expect(detector.config.modalities).toEqual(['temperature', 'humidity', 'voltage']);
    expect(detector.graph.nodes).toEqual(network.series.nodes);
    // Complete graph: every pair linked.
    expect(detector.graph.adjacency.flat().filter((w) => w > 0).length).toBe(6);
    expect(detector.metadata.training?.dataSource).toBe(`history:${file}`);
  });

  it.each([
    [['--nodes', '1'], '--nodes needs an integer >= 2, got "1"'],
    [['--seed', ''], '--seed needs an integer >= 0, got ""'],
    [['--loss', '0'], '--loss needs a number in (0, 1], got "0"'],
    [['--learning-rate', 'fast'], '--learning-rate needs a positive number, got "fast"'],
  ])('refuses %j before training, in the words every command uses', async (args, message) => {
    const output: string[] = [];
    await expect(
      program(output).parseAsync(['node', 'wsn-watch', 'train', '--synthetic', ...args]),
    ).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    expect(output.join('')).toContain(message);
  });

  it('refuses to run without exactly one data source', async () => {
    await expect(
      program([]).parseAsync(['node', 'wsn-watch', 'train', '--out', path.join(dir, 'x')]),
    ).rejects.toMatchObject({ code: 'TRAIN_SOURCE' });
  });
});
