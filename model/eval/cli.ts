import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../../common/errors.ts';
import { loadIbrl, readIbrlPositions } from '../../sources/ibrl.ts';
import { registerDataCommands } from '../../sources/cli.ts';
import { TRAINING_DEFAULTS } from '../train/defaults.ts';
import { loadModelModule, modelTrainer } from './model-trainer.ts';
import { renderReport } from './report.ts';
import { type ModelTrainer, runEvaluation } from './run.ts';

/** Marks the generated part of a hand-written evaluation document. */
export const RESULTS_START = '<!-- results:start -->';
export const RESULTS_END = '<!-- results:end -->';

/** Puts generated results between the markers of an existing document, or makes it the whole document. */
export function spliceResults(existing: string | undefined, results: string): string {
  if (existing) {
    const start = existing.indexOf(RESULTS_START);
    const end = existing.indexOf(RESULTS_END);
    if (start >= 0 && end > start)
      return `${existing.slice(0, start + RESULTS_START.length)}\n${results}\n${existing.slice(end)}`;
  }
  return `# Evaluation\n\n${RESULTS_START}\n${results}\n${RESULTS_END}\n`;
}

function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new UserError('BAD_FLAG', `--${name} must be a non-negative integer, got "${value}"`);
    return n;
  };
}

interface IbrlEvalFlags {
  data: string;
  seeds: number;
  firstSeed: number;
  epochs: number;
  batchSize: number;
  patience: number;
  maxMinutes?: number;
  clusters: number;
  clusterSeeds?: number;
  clusterMaxMinutes?: number;
  model: boolean;
  injectionRanges: string;
  neighbours: number;
  out?: string;
}

function progress(message: string): void {
  process.stderr.write(`[eval] ${message}\n`);
}

/** Registers `wsn-watch eval ibrl` and `wsn-watch data download ibrl`. */
export function registerEvalCommand(program: Command): void {
  const evaluate = program
    .command('eval')
    .description('Evaluate the detector and baselines on public data with the GLSL paper protocol');
  evaluate
    .command('ibrl')
    .description(
      'IBRL (Intel Lab) evaluation: 51 motes, temperature/humidity/voltage, 60 % train, 100 check points and 100 injections per seed',
    )
    .requiredOption('--data <dir>', 'IBRL folder with node.txt and readings/<id>.txt (e.g. ../shared/data/ibrl)')
    .option('--seeds <n>', 'number of seeds (each: own injections, own trained models)', positiveInt('seeds'), 5)
    .option('--first-seed <n>', 'first seed', positiveInt('first-seed'), 1)
    .option(
      '--epochs <n>',
      'training epochs per model (upper bound; early stopping may end sooner)',
      positiveInt('epochs'),
      TRAINING_DEFAULTS.epochs,
    )
    .option(
      '--batch-size <n>',
      'windows per optimiser step (as wsn-watch train)',
      positiveInt('batch-size'),
      TRAINING_DEFAULTS.batchSize,
    )
    .option(
      '--patience <n>',
      'epochs without validation improvement before stopping (as wsn-watch train)',
      positiveInt('patience'),
      TRAINING_DEFAULTS.patience,
    )
    .option('--max-minutes <m>', 'wall-clock budget per model', (v) => Number(v))
    .option('--clusters <k>', 'also evaluate one model per k-means cluster (0 = off)', positiveInt('clusters'), 0)
    .option(
      '--cluster-seeds <n>',
      'run the clustered variant on the first n seeds only (default: all)',
      positiveInt('cluster-seeds'),
    )
    .option('--cluster-max-minutes <m>', 'wall-clock budget per cluster model (default: --max-minutes)', (v) =>
      Number(v),
    )
    .option('--no-model', 'baselines only')
    .option(
      '--injection-ranges <kind>',
      "'authors' (the ranges saved with the GLSL code) or 'training' (max − min of the training data)",
      'authors',
    )
    .option(
      '--neighbours <k>',
      'k nearest motes for the graph and the neighbour-median baseline',
      positiveInt('neighbours'),
      4,
    )
    .option('--out <file>', 'write the markdown results there (between the results markers if the file has them)')
    .action(async (flags: IbrlEvalFlags) => {
      if (flags.injectionRanges !== 'authors' && flags.injectionRanges !== 'training') {
        throw new UserError(
          'BAD_FLAG',
          `--injection-ranges must be 'authors' or 'training', got "${flags.injectionRanges}"`,
        );
      }
      const started = performance.now();
      progress(`loading ${flags.data}`);
      const dataset = await loadIbrl(flags.data, { onProgress: (m) => progress(m) });
      const positions = await readIbrlPositions(flags.data);
      const { report } = dataset;
      progress(
        `${report.files} motes, ${report.lines} readings, ${report.missingLight} without light, ${report.implausibleTemperatures.length} implausible temperatures (${report.implausibleHandling}); ${dataset.secondsPerEpoch.toFixed(2)} s per epoch`,
      );
      const epochs = dataset.sampleEpochs;
      const secondsPerStep = ((epochs[epochs.length - 1] - epochs[0]) / (epochs.length - 1)) * dataset.secondsPerEpoch;

      let model: ModelTrainer | undefined;
      let clusterModel: ModelTrainer | undefined;
      let backend = 'none (baselines only)';
      if (flags.model) {
        const module = await loadModelModule();
        backend = await module.ensureBackend('auto');
        const settings = {
          epochs: flags.epochs,
          maxMinutes: flags.maxMinutes,
          batchSize: flags.batchSize,
          validationFraction: TRAINING_DEFAULTS.validationFraction,
          patience: flags.patience,
          onProgress: progress,
        };
        model = modelTrainer(module, settings, `ibrl:${flags.data}`);
        clusterModel = modelTrainer(
          module,
          { ...settings, maxMinutes: flags.clusterMaxMinutes ?? flags.maxMinutes },
          `ibrl:${flags.data}`,
        );
      }
      const seeds = Array.from({ length: flags.seeds }, (_, i) => flags.firstSeed + i);
      const result = await runEvaluation({
        raw: dataset.series,
        positions,
        secondsPerStep,
        seeds,
        injectionRanges: flags.injectionRanges,
        neighbours: flags.neighbours,
        model,
        clusterModel,
        clusters: flags.clusters || undefined,
        clusterSeeds: flags.clusterSeeds,
        onProgress: progress,
      });
      const command = ['wsn-watch', ...process.argv.slice(2)].join(' ');
      const markdown = renderReport(result, {
        command,
        date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
        backend,
        data: `${report.files} mote files, ${report.lines} readings; ${secondsPerStep.toFixed(1)} s per aligned sample; total run ${((performance.now() - started) / 60000).toFixed(1)} min`,
      });
      process.stdout.write(markdown);
      if (flags.out) {
        const existing = await readFile(flags.out, 'utf8').catch(() => undefined);
        await writeFile(flags.out, spliceResults(existing, markdown));
        progress(`wrote ${path.normalize(flags.out)}`);
      }
    });
  registerDataCommands(program);
}
