/**
 * The wiring of `wsn-watch eval ibrl`: load the IBRL folder, build the model
 * trainers, run the evaluation and write the Markdown report. The CLI only parses flags.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../common/errors.ts';
import { loadIbrl, readIbrlPositions } from '../../sources/ibrl.ts';
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

export interface IbrlEvalFlags {
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

/** Runs `wsn-watch eval ibrl` with parsed flags. */
export async function runIbrlEvalCommand(flags: IbrlEvalFlags): Promise<void> {
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
}
