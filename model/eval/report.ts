/** Markdown for an evaluation: the command, the setup, a summary over seeds and the per-seed rows. */
import type { EvaluationResult, ScorerRun } from './run.ts';

export interface Spread {
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** Mean, population std, min and max. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, std, min: Math.min(...values), max: Math.max(...values) };
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '–');
const cell = (s: Spread): string => `${f3(s.mean)} ± ${f3(s.std)} (${f3(s.min)}–${f3(s.max)})`;

export interface ReportContext {
  command: string;
  date: string;
  backend: string;
  data: string;
  notes?: string[];
  /** Heading of the generated part (default '## Results'); per-seed and later headings are one level below it. */
  heading?: string;
  /** Markdown put right after the setup line, before the summary table. */
  preface?: string[];
}

export function summarize(result: EvaluationResult): {
  scorer: string;
  seeds: number;
  precision: Spread;
  recall: Spread;
  f1: Spread;
  localization: Spread;
  alarms: Spread;
  flagged: Spread;
  trainSeconds: Spread;
  models: number;
}[] {
  const byScorer = new Map<string, ScorerRun[]>();
  for (const run of result.runs) byScorer.set(run.scorer, [...(byScorer.get(run.scorer) ?? []), run]);
  return [...byScorer.entries()].map(([scorer, runs]) => ({
    scorer,
    seeds: runs.length,
    precision: spread(runs.map((r) => r.counts.precision)),
    recall: spread(runs.map((r) => r.counts.recall)),
    f1: spread(runs.map((r) => r.counts.f1)),
    localization: spread(runs.map((r) => r.counts.localization)),
    alarms: spread(runs.map((r) => r.falseAlarms.perNodePerDay)),
    flagged: spread(runs.map((r) => r.falseAlarms.flaggedWindows)),
    trainSeconds: spread(runs.map((r) => (r.models > 0 ? r.trainSeconds / r.models : r.trainSeconds))),
    models: runs[0].models,
  }));
}

export function renderReport(result: EvaluationResult, context: ReportContext): string {
  const lines: string[] = [];
  const { layout } = result;
  const seeds = [...new Set(result.runs.map((r) => r.seed))];
  const heading = context.heading ?? '## Results';
  lines.push(heading, '');
  lines.push(`Command: \`${context.command}\``, '');
  lines.push(`Date: ${context.date} · backend: ${context.backend} · data: ${context.data}`, '');
  lines.push(
    `Setup: ${result.nodes} motes × ${result.modalities.join(', ')}; ${layout.steps} aligned samples; train steps [0, ${layout.trainEnd}); ` +
      `window ${layout.options.window}; ${layout.checkPoints.length} clean check points and ${layout.checkPoints.length} injections (length ${layout.options.injectionLength}) per seed, ` +
      `check points ${layout.checkPoints[0]}…${layout.checkPoints[layout.checkPoints.length - 1]}; injection ranges: ${result.injectionRanges}; seeds ${seeds.join(', ')}` +
      (result.clusterSizes ? `; k-means clusters of ${result.clusterSizes.join(', ')} motes` : '') +
      '.',
    '',
  );
  if (context.preface?.length) lines.push(...context.preface, '');
  lines.push('Mean ± std (min–max) over seeds. Train time: seconds per model (baselines: calibration).', '');
  lines.push(
    '| scorer | seeds | precision | recall | F1 | localization | false alarms / node / day | flagged clean windows | train s |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const s of summarize(result)) {
    lines.push(
      `| ${s.scorer} | ${s.seeds} | ${cell(s.precision)} | ${cell(s.recall)} | ${cell(s.f1)} | ${cell(s.localization)} | ${cell(s.alarms)} | ${cell(s.flagged)} | ${s.trainSeconds.mean.toFixed(1)} |`,
    );
  }
  lines.push('', `#${heading.split(' ')[0]} Per seed`, '');
  lines.push(
    'Last column, a diagnostic and not a result: the F1 the same scores would reach at the threshold that is best on these test outcomes (chosen on test data).',
    '',
  );
  lines.push(
    '| seed | scorer | threshold | TP | FN | TN | FP | precision | recall | F1 | localization | false alarms / node / day | F1 at best test threshold |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of result.runs) {
    const c = r.counts;
    const oracle = r.bestTestThreshold
      ? `${f3(r.bestTestThreshold.f1)} (at ${f3(r.bestTestThreshold.threshold)})`
      : '–';
    lines.push(
      `| ${r.seed} | ${r.scorer} | ${f3(r.threshold)} | ${c.tp} | ${c.fn} | ${c.tn} | ${c.fp} | ${f3(c.precision)} | ${f3(c.recall)} | ${f3(c.f1)} | ${f3(c.localization)} | ${f3(r.falseAlarms.perNodePerDay)} | ${oracle} |`,
    );
  }
  lines.push('', 'Injection kinds per seed:', '');
  for (const seed of seeds)
    lines.push(
      `- seed ${seed}: ${Object.entries(result.kinds[seed] ?? {})
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
  const modelRuns = result.runs.filter((run) => run.models > 0 && run.flaggedCleanTopNodes);
  if (modelRuns.length > 0)
    lines.push(
      '',
      'Flagged clean check points by the node ranked first in them (each model row at its own threshold):',
      '',
    );
  for (const r of modelRuns) {
    const byNode = Object.entries(r.flaggedCleanTopNodes ?? {}).sort((a, b) => b[1] - a[1]);
    lines.push(
      `- seed ${r.seed}, ${r.scorer}: ${byNode.length ? byNode.map(([node, n]) => `${node} ${n}`).join(', ') : 'none'}`,
    );
  }
  if (context.notes?.length) lines.push('', ...context.notes.map((n) => `- ${n}`));
  lines.push('');
  return lines.join('\n');
}
