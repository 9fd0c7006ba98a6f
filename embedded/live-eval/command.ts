/**
 * `wsn-watch eval live` wiring: the checked flags of cli.ts in, per dataset the
 * model opened, the dataset built, the live evaluation run and its table printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { Detector } from '../../model/index.ts';
import { resolveFromCwdOrRepo } from '../../common/paths.ts';
import { openModel } from '../backtest/model.ts';
import { SIMULATION_START } from '../sources.ts';
import { ibrlDataset, parseSyntheticSource, syntheticDataset, type LiveDataset } from './datasets.ts';
import { runLiveEvaluation } from './run.ts';
import { liveEvalMarkdown } from './table.ts';

export interface LiveEvalFlags {
  data: string;
  ibrlModel: string;
  syntheticModel: string;
  datasets: string;
  runsPerSeed: number;
  perKind: number;
  out?: string;
  workDir?: string;
  title?: string;
  /** Also write each run's per-node-tick scores to the work folder. */
  scores?: boolean;
  /** Print the model's alert transitions of the clean run. */
  logAlerts?: boolean;
  /** Test days of the synthetic network after its warm-up day (default 4). */
  testDays?: number;
}

interface LiveEvalContext {
  base: Config;
  seeds: number[];
  note: (text: string) => void;
  logger: Logger;
}

function wantedDatasets(list: string): string[] {
  const wanted = list.split(',').map((s) => s.trim());
  const unknown = wanted.filter((name) => name !== 'ibrl' && name !== 'synthetic');
  if (unknown.length > 0)
    throw new UserError(
      'OPTION_INVALID',
      `--datasets: unknown dataset "${unknown.join('", "')}"`,
      'Pass ibrl, synthetic or ibrl,synthetic.',
    );
  return wanted;
}

async function loadDataset(
  name: string,
  modelDir: string,
  model: Detector,
  config: Config,
  options: LiveEvalFlags,
  workDir: string,
  note: (text: string) => void,
): Promise<LiveDataset> {
  if (name === 'ibrl')
    return ibrlDataset(path.resolve(options.data), {
      network: config.network,
      tickMs: config.ingest.tickMs,
      warmupHours: 12,
      modalities: [...model.config.modalities],
      onProgress: note,
    });
  const source = parseSyntheticSource(model.metadata.training?.dataSource);
  if (!source)
    note(
      `eval live: ${modelDir} was not trained by \`train --synthetic\` (data source "${model.metadata.training?.dataSource ?? 'unknown'}"); using the network of models/default (12 nodes, seed 1, 2,000 samples)`,
    );
  return syntheticDataset({
    network: config.network,
    workDir,
    testDays: options.testDays ?? 4,
    start: SIMULATION_START,
    source,
  });
}

/** One dataset: its model opened, the evaluation run, the table printed and returned. */
async function evaluateDataset(
  name: string,
  options: LiveEvalFlags,
  workDir: string,
  context: LiveEvalContext,
): Promise<string> {
  const { base, seeds, note, logger } = context;
  const modelDir = name === 'ibrl' ? options.ibrlModel : options.syntheticModel;
  const config: Config = { ...base, detector: { ...base.detector, model: modelDir } };
  const model = await openModel(config, note);
  try {
    const dataset = await loadDataset(name, modelDir, model, config, options, workDir, note);
    note(
      `eval live: ${dataset.name}: ${dataset.readings.length} readings; σ ${Object.entries(dataset.sigma)
        .map(([m, s]) => `${m} ${s.toFixed(3)}`)
        .join(', ')}; faults on ${dataset.faultNodes.length} nodes`,
    );
    const result = await runLiveEvaluation({
      dataset,
      model,
      modelName: path.basename(resolveFromCwdOrRepo(modelDir)),
      config,
      seeds,
      runsPerSeed: options.runsPerSeed,
      perKind: options.perKind,
      workDir,
      writeScores: options.scores === true,
      logCleanAlerts: options.logAlerts === true,
      logger,
      progress: note,
    });
    const table = liveEvalMarkdown(result);
    process.stdout.write(`\n${table}\n`);
    note(
      `eval live: ${dataset.name}: ${result.seconds.toFixed(0)} s for ${1 + seeds.length * options.runsPerSeed} backtests`,
    );
    return table;
  } finally {
    model.dispose();
  }
}

/** Runs the live evaluation on every wanted dataset and writes the tables if asked. */
export async function runLiveEvalCommand(options: LiveEvalFlags, context: LiveEvalContext): Promise<void> {
  const { note } = context;
  const workDir = path.resolve(options.workDir ?? path.join(tmpdir(), `wsn-eval-live-${process.pid}`));
  mkdirSync(workDir, { recursive: true });
  const wanted = wantedDatasets(options.datasets);
  const sections: string[] = [];
  if (options.title) sections.push(`${options.title}\n`);
  for (const name of wanted) sections.push(await evaluateDataset(name, options, workDir, context));
  if (options.out) {
    writeFileSync(options.out, sections.join('\n'));
    note(`eval live: tables written to ${options.out}; events files in ${workDir}`);
  }
}
