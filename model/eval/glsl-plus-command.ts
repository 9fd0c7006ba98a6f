/**
 * The wiring of `wsn-watch eval ibrl --protocol glsl-plus`: load the
 * authors' GLSL+ cluster, halve its series by PAA, run the evaluation with
 * the extension's protocol and report it beside the authors' F1.
 */
import { UserError } from '../../common/errors.ts';
import { loadIbrl, readIbrlPositions } from '../../sources/ibrl.ts';
import { selectNodes } from './clustered.ts';
import {
  AUTHORS_GLSL_PLUS_RANGES,
  GLSL_PLUS_CLUSTER,
  GLSL_PLUS_INJECTIONS,
  GLSL_PLUS_PAA_SEGMENT,
  GLSL_PLUS_PROTOCOL,
  clusterIndices,
  halveSeries,
} from './glsl-plus.ts';
import { type IbrlEvalFlags, buildTrainers, checkInjectionRanges, progress, writeReport } from './ibrl-command.ts';
import { renderReport, spread, summarize } from './report.ts';
import { type EvaluationResult, runEvaluation } from './run.ts';

/** Marks the generated part of the "GLSL+ protocol" section of docs/evaluation.md. */
export const GLSL_PLUS_RESULTS = { start: '<!-- glsl-plus:start -->', end: '<!-- glsl-plus:end -->' };

/** The authors' GLSL+ result (save/result.txt of their code): TP 173, FN 27, TN 194, FP 6. */
export const AUTHORS_GLSL_PLUS = { precision: 0.966, recall: 0.865, f1: 0.913 } as const;

/** The comparison table: the authors' one run, then every scorer's F1 per seed and mean ± sd. */
export function comparisonTable(result: EvaluationResult): string[] {
  const seeds = [...new Set(result.runs.map((r) => r.seed))];
  const f = (x: number): string => x.toFixed(3);
  const lines = [
    `| scorer | ${seeds.map((s) => `seed ${s}`).join(' | ')} | F1 mean ± sd | precision | recall |`,
    `| --- | ${seeds.map(() => '---').join(' | ')} | --- | --- | --- |`,
    `| authors' GLSL+ (their code, one run) | ${seeds.map(() => '').join(' | ')} | ${f(AUTHORS_GLSL_PLUS.f1)} | ${f(AUTHORS_GLSL_PLUS.precision)} | ${f(AUTHORS_GLSL_PLUS.recall)} |`,
  ];
  for (const s of summarize(result)) {
    const runs = result.runs.filter((r) => r.scorer === s.scorer);
    const perSeed = seeds.map((seed) => {
      const run = runs.find((r) => r.seed === seed);
      return run ? f(run.counts.f1) : '–';
    });
    const f1 = spread(runs.map((r) => r.counts.f1));
    lines.push(
      `| ${s.scorer} | ${perSeed.join(' | ')} | ${f(f1.mean)} ± ${f(f1.std)} | ${f(s.precision.mean)} | ${f(s.recall.mean)} |`,
    );
  }
  return lines;
}

/** Runs `wsn-watch eval ibrl --protocol glsl-plus` with parsed flags. */
export async function runGlslPlusEvalCommand(flags: IbrlEvalFlags): Promise<void> {
  checkInjectionRanges(flags);
  if (flags.clusters > 0)
    throw new UserError(
      'BAD_FLAG',
      `--clusters ${flags.clusters} does not apply to --protocol glsl-plus, which evaluates the authors' one cluster`,
    );
  const started = performance.now();
  progress(`loading ${flags.data}: the GLSL+ cluster (motes ${GLSL_PLUS_CLUSTER.join(', ')})`);
  // The authors keep mote 18 and its implausible temperatures as they are.
  const dataset = await loadIbrl(flags.data, {
    motes: GLSL_PLUS_CLUSTER,
    exclude: [],
    implausible: 'keep',
    onProgress: (m) => progress(m),
  });
  const positions = await readIbrlPositions(flags.data);
  const cluster = selectNodes(dataset.series, clusterIndices(dataset.series.nodes, GLSL_PLUS_CLUSTER));
  const raw = halveSeries(cluster, GLSL_PLUS_PAA_SEGMENT);
  const epochs = dataset.sampleEpochs;
  const secondsPerStep =
    ((epochs[epochs.length - 1] - epochs[0]) / (epochs.length - 1)) * dataset.secondsPerEpoch * GLSL_PLUS_PAA_SEGMENT;
  progress(
    `${raw.nodes.length} motes, ${cluster.steps} samples halved to ${raw.steps} (${secondsPerStep.toFixed(1)} s each)`,
  );
  // Fixed epochs: early stopping would end a seed's training at a data-dependent epoch.
  const { model, backend } = await buildTrainers({ ...flags, patience: flags.epochs }, `ibrl-glsl-plus:${flags.data}`);
  const seeds = Array.from({ length: flags.seeds }, (_, i) => flags.firstSeed + i);
  const result = await runEvaluation({
    raw,
    positions,
    secondsPerStep,
    seeds,
    protocol: GLSL_PLUS_PROTOCOL,
    injectionRanges: flags.injectionRanges,
    authorsRanges: AUTHORS_GLSL_PLUS_RANGES,
    injectionStyle: GLSL_PLUS_INJECTIONS,
    neighbours: flags.neighbours,
    model,
    onProgress: progress,
  });
  const markdown = renderReport(result, {
    heading: '### Results',
    command: ['wsn-watch', ...process.argv.slice(2)].join(' '),
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    backend,
    data: `${dataset.report.files} mote files, ${dataset.report.lines} readings, ${dataset.report.implausibleTemperatures.length} implausible temperatures kept; ${secondsPerStep.toFixed(1)} s per halved sample; ${flags.model ? `${flags.epochs} epochs per model, ` : ''}total run ${((performance.now() - started) / 60000).toFixed(1)} min`,
    preface: comparisonTable(result),
  });
  await writeReport(markdown, flags.out, GLSL_PLUS_RESULTS);
}
