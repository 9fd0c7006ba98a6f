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
export function spliceResults(
  existing: string | undefined,
  results: string,
  markers: { start: string; end: string } = { start: RESULTS_START, end: RESULTS_END },
): string {
  if (existing) {
    const start = existing.indexOf(markers.start);
    const end = existing.indexOf(markers.end);
    if (start >= 0 && end > start)
      return `${existing.slice(0, start + markers.start.length)}\n${results}\n${existing.slice(end)}`;
  }
  return `# Evaluation\n\n${markers.start}\n${results}\n${markers.end}\n`;
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
  /** 'paper' (GLSL, default) or 'glsl-plus' (the extension's cluster, PAA, 200 check points, x⁻¹ mirror). */
  protocol?: string;
}

export function progress(message: string): void {
  process.stderr.write(`[eval] ${message}\n`);
}

/** The model trainers the flags ask for (none with --no-model), and the TensorFlow backend in use. */
export async function buildTrainers(
  flags: IbrlEvalFlags,
  dataSource: string,
): Promise<{ model?: ModelTrainer; clusterModel?: ModelTrainer; backend: string }> {
  if (!flags.model) return { backend: 'none (baselines only)' };
  const module = await loadModelModule();
  const backend = await module.ensureBackend('auto');
  const settings = {
    epochs: flags.epochs,
    maxMinutes: flags.maxMinutes,
    batchSize: flags.batchSize,
    validationFraction: TRAINING_DEFAULTS.validationFraction,
    patience: flags.patience,
    onProgress: progress,
  };
  return {
    backend,
    model: modelTrainer(module, settings, dataSource),
    clusterModel: modelTrainer(
      module,
      { ...settings, maxMinutes: flags.clusterMaxMinutes ?? flags.maxMinutes },
      dataSource,
    ),
  };
}

/** Writes a report to stdout and, with --out, into the file between the given markers. */
export async function writeReport(
  markdown: string,
  out: string | undefined,
  markers?: { start: string; end: string },
): Promise<void> {
  process.stdout.write(markdown);
  if (!out) return;
  const existing = await readFile(out, 'utf8').catch(() => undefined);
  await writeFile(out, spliceResults(existing, markdown, markers));
  progress(`wrote ${path.normalize(out)}`);
}

/** Rejects an --injection-ranges value other than 'authors' or 'training'. */
export function checkInjectionRanges(
  flags: IbrlEvalFlags,
): asserts flags is IbrlEvalFlags & { injectionRanges: 'authors' | 'training' } {
  if (flags.injectionRanges !== 'authors' && flags.injectionRanges !== 'training') {
    throw new UserError(
      'BAD_FLAG',
      `--injection-ranges must be 'authors' or 'training', got "${flags.injectionRanges}"`,
    );
  }
}

/** Runs `wsn-watch eval ibrl` with parsed flags. */
export async function runIbrlEvalCommand(flags: IbrlEvalFlags): Promise<void> {
  const protocol = flags.protocol ?? 'paper';
  if (protocol === 'glsl-plus') return (await import('./glsl-plus-command.ts')).runGlslPlusEvalCommand(flags);
  if (protocol !== 'paper')
    throw new UserError('BAD_FLAG', `--protocol must be 'paper' or 'glsl-plus', got "${protocol}"`);
  checkInjectionRanges(flags);
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

  const { model, clusterModel, backend } = await buildTrainers(flags, `ibrl:${flags.data}`);
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
  await writeReport(markdown, flags.out);
}
