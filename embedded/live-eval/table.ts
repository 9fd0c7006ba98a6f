/** The live-path evaluation as markdown: per kind, then per scorer. */
import { LIVE_FAULT_KINDS } from '../../sources/live-faults.ts';
import type { LiveEvalResult } from './run.ts';
import { median } from '../../common/median.ts';

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const sd = (xs: number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
const num = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** Per kind and scorer: other nodes' alerts during the detected faults, new (the clean run had none near them) and background. */
function otherAlertsTable(result: LiveEvalResult, kinds: readonly string[]): string[] {
  const lines = [
    "Other nodes' anomaly alerts during the detected faults, per kind: new (the clean run had no alert on that node within the grace of it) · background (the clean run had one).",
    '',
    `| kind | ${result.scorers.map((s) => `${s.name} new | ${s.name} background`).join(' | ')} |`,
    `| --- | ${result.scorers.map(() => '--- | ---').join(' | ')} |`,
  ];
  for (const kind of kinds) {
    const cells = result.scorers.map((s) => {
      const k = s.kinds.get(kind)!;
      return `${k.otherAlertsNew} | ${k.otherAlertsBackground}`;
    });
    lines.push(`| ${kind} | ${cells.join(' | ')} |`);
  }
  return lines;
}

export function liveEvalMarkdown(result: LiveEvalResult): string {
  const lines: string[] = [];
  const names = result.scorers.map((s) => s.name);
  lines.push(
    `**${result.dataset}**: ${result.description}. Seeds ${result.seeds.join(', ')}, ${result.runsPerSeed} injected run(s) per seed, ${result.events} fault events in all; ${result.ticksPerRun} ticks per run.`,
  );
  lines.push('');
  lines.push(
    "Per kind: event recall (mean ± sd over seeds) · median ticks from the fault's start to the alert · localization, strict (share of detected events where no other node of the cluster alerted) · localization, fault-caused (share of detected events where no other node alerted that the clean run did not also alert within the grace of that alert) · alert coverage (share of the fault's ticks an alert was firing).",
  );
  lines.push('');
  lines.push(
    `| kind | events | ${names.map((n) => `${n} recall | ${n} ticks to detect | ${n} localization, strict | ${n} localization, fault-caused | ${n} coverage`).join(' | ')} |`,
  );
  lines.push(`| --- | --- | ${names.map(() => '--- | --- | --- | --- | ---').join(' | ')} |`);
  const kinds = LIVE_FAULT_KINDS.filter((k) => result.scorers[0].kinds.has(k));
  for (const kind of kinds) {
    const cells = result.scorers.map((s) => {
      const k = s.kinds.get(kind)!;
      const share = (n: number): string => num(k.detected ? n / k.detected : NaN);
      return `${num(mean(k.recallBySeed))} ± ${num(sd(k.recallBySeed))} | ${num(median(k.ticksToDetect), 1)} | ${share(k.localized)} | ${share(k.localizedFaultCaused)} | ${num(mean(k.coverage))}`;
    });
    lines.push(`| ${kind} | ${result.scorers[0].kinds.get(kind)!.events} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push(...otherAlertsTable(result, kinds));
  lines.push('');
  lines.push(
    '| scorer | alert threshold | event recall | alert precision | event F1 | false alerts / node-day, clean test data | false alerts / node-day outside the faults, injected runs |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const s of result.scorers) {
    lines.push(
      `| ${s.name} | ${s.threshold} | ${num(mean(s.recallBySeed))} ± ${num(sd(s.recallBySeed))} | ${num(mean(s.precisionBySeed))} ± ${num(sd(s.precisionBySeed))} | ${num(mean(s.f1BySeed), 3)} ± ${num(sd(s.f1BySeed), 3)} | ${num(s.cleanFalseAlertsPerNodeDay, 3)} (${s.cleanFalseAlerts} in ${num(s.cleanNodeDays, 1)} node-days) | ${num(mean(s.injectedFalseAlertsPerNodeDay), 3)} |`,
    );
  }
  return lines.join('\n') + '\n';
}
