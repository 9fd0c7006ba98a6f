/** `wsn-watch eval live`: flags only; the work is in run.ts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { openModel, resolveModelDir } from '../backtest/model.ts';
import { SIMULATION_START } from '../sources.ts';
import { ibrlDataset, parseSyntheticSource, syntheticDataset, type LiveDataset } from './datasets.ts';
import { runLiveEvaluation } from './run.ts';
import { liveEvalMarkdown } from './table.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface LiveCliOptions {
  data: string;
  ibrlModel: string;
  syntheticModel: string;
  datasets: string;
  seeds: string;
  runsPerSeed: number;
  perKind: number;
  out?: string;
  workDir?: string;
  title?: string;
}

const positive =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${flag} needs a positive integer, got "${value}"`);
    return n;
  };

function seedList(text: string): number[] {
  const seeds = text.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new UserError(
      'OPTION_INVALID',
      `--seeds needs a comma-separated list of integers, got "${text}"`,
      'Pass e.g. --seeds 1,2,3.',
    );
  return seeds;
}

export function registerLiveEvalCommand(program: Command): void {
  const evaluate =
    program.commands.find((command) => command.name() === 'eval') ??
    program.command('eval').description('evaluate the detector and the baselines');
  evaluate
    .command('live')
    .description(
      'live-path evaluation: faults of every taxonomy kind (spike, stuck, noise, offset, gain, drift, dropout; 1 tick to hours) injected into the raw IBRL test days and a synthetic network, run through backtest (ingest alignment, detector, alert tracker); recall per kind, time to detect, localization, false alerts per node-day and event F1 for the model and both baselines',
    )
    .option('--data <dir>', 'IBRL folder (node.txt, readings/)', path.resolve(REPO_ROOT, '../shared/data/ibrl'))
    .option('--ibrl-model <dir>', 'model for the IBRL test days', 'models/ibrl')
    .option(
      '--synthetic-model <dir>',
      'model for the synthetic network; the network it was trained on (`train --synthetic`, from its metadata) is continued past its training samples',
      'models/default',
    )
    .option('--datasets <list>', 'ibrl, synthetic or both', 'ibrl,synthetic')
    .option('--seeds <list>', 'seeds (each its own fault plans)', '1,2,3')
    .option(
      '--runs-per-seed <n>',
      'injected runs per seed, each over the whole test part',
      positive('--runs-per-seed'),
      2,
    )
    .option(
      '--per-kind <n>',
      'faults of each kind per run (one fault at a time, an hour apart)',
      positive('--per-kind'),
      1,
    )
    .option('--out <file>', 'write the tables as markdown')
    .option('--work-dir <dir>', 'where the events files of the runs go (default: a folder in the temp directory)')
    .option('--title <text>', 'heading line of the markdown (e.g. which model)')
    .action(async (options: LiveCliOptions, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string }>();
      const base: Config = loadConfig({ file: globals.config });
      const note = (text: string): void => void process.stderr.write(`${text}\n`);
      const logger = createLogger('eval-live', process.env.WSN_LOG_LEVEL ?? 'warn');
      const workDir = path.resolve(options.workDir ?? path.join(tmpdir(), `wsn-eval-live-${process.pid}`));
      mkdirSync(workDir, { recursive: true });
      const seeds = seedList(options.seeds);
      const wanted = options.datasets.split(',').map((s) => s.trim());
      const sections: string[] = [];
      if (options.title) sections.push(`${options.title}\n`);
      const unknown = wanted.filter((name) => name !== 'ibrl' && name !== 'synthetic');
      if (unknown.length > 0)
        throw new UserError(
          'OPTION_INVALID',
          `--datasets: unknown dataset "${unknown.join('", "')}"`,
          'Pass ibrl, synthetic or ibrl,synthetic.',
        );
      for (const name of wanted) {
        const modelDir = name === 'ibrl' ? options.ibrlModel : options.syntheticModel;
        const config: Config = { ...base, detector: { ...base.detector, model: modelDir } };
        const model = await openModel(config, note);
        try {
          let dataset: LiveDataset;
          if (name === 'ibrl') {
            dataset = await ibrlDataset(path.resolve(options.data), {
              network: config.network,
              tickMs: config.ingest.tickMs,
              warmupHours: 12,
              modalities: [...model.config.modalities],
              onProgress: note,
            });
          } else {
            const source = parseSyntheticSource(model.metadata.training?.dataSource);
            if (!source)
              note(
                `eval live: ${modelDir} was not trained by \`train --synthetic\` (data source "${model.metadata.training?.dataSource ?? 'unknown'}"); using the network of models/default (12 nodes, seed 1, 2,000 samples)`,
              );
            dataset = syntheticDataset({
              network: config.network,
              workDir,
              testDays: 4,
              start: SIMULATION_START,
              source,
            });
          }
          note(
            `eval live: ${dataset.name}: ${dataset.readings.length} readings; σ ${Object.entries(dataset.sigma)
              .map(([m, s]) => `${m} ${s.toFixed(3)}`)
              .join(', ')}; faults on ${dataset.faultNodes.length} nodes`,
          );
          const result = await runLiveEvaluation({
            dataset,
            model,
            modelName: path.basename(resolveModelDir(modelDir)),
            config,
            seeds,
            runsPerSeed: options.runsPerSeed,
            perKind: options.perKind,
            workDir,
            logger,
            progress: note,
          });
          const table = liveEvalMarkdown(result);
          process.stdout.write(`\n${table}\n`);
          note(
            `eval live: ${dataset.name}: ${result.seconds.toFixed(0)} s for ${1 + seeds.length * options.runsPerSeed} backtests`,
          );
          sections.push(table);
        } finally {
          model.dispose();
        }
      }
      if (options.out) {
        writeFileSync(options.out, sections.join('\n'));
        note(`eval live: tables written to ${options.out}; events files in ${workDir}`);
      }
    });
}
