/** Text, markdown and JSON views of a backtest's event metrics. */
import type { EventMetrics, KindMetrics } from './events.ts';
import type { BacktestResult } from './run.ts';

const fixed = (value: number | null, digits = 2): string => (value === null ? '–' : value.toFixed(digits));

function kindCells(k: KindMetrics): string[] {
  return [
    `${k.detected}/${k.events}`,
    fixed(k.recall),
    fixed(k.medianTicksToDetect, 1),
    fixed(k.coverage),
    fixed(k.localization),
    fixed(k.localizationFaultCaused),
    otherAlertsCell(k),
    fixed(k.modalityRight),
  ];
}

/** "3" without a clean run's alerts, else "3 (1 new, 2 background)". */
function otherAlertsCell(k: KindMetrics): string {
  if (k.otherAlertsNew === null || k.otherAlertsBackground === null) return `${k.otherAlerts}`;
  return `${k.otherAlerts} (${k.otherAlertsNew} new, ${k.otherAlertsBackground} background)`;
}

/** "localization 0.50" or, with a clean run's alerts, "localization strict 0.50, fault-caused 1.00". */
function localizationText(k: KindMetrics): string {
  if (k.localizationFaultCaused === null) return `localization ${fixed(k.localization)}`;
  return `localization strict ${fixed(k.localization)}, fault-caused ${fixed(k.localizationFaultCaused)}`;
}

/** One markdown table: a row per scorer × kind, then the scorer's totals. */
export function metricsMarkdown(result: Pick<BacktestResult, 'scorers'>): string {
  const lines = [
    '| scorer | threshold | kind | detected | recall | median ticks to detect | alert coverage | localization, strict | localization, fault-caused | other-node alerts | modality named | false alerts / node-day | event F1 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const scorer of result.scorers) {
    const m = scorer.metrics;
    if (!m) continue;
    for (const k of m.kinds)
      lines.push(`| ${scorer.name} | ${scorer.threshold} | ${k.kind} | ${kindCells(k).join(' | ')} | | |`);
    lines.push(
      `| **${scorer.name}** | ${scorer.threshold} | **all** | ${kindCells(m.all).join(' | ')} | ${m.falseAlertsPerNodeDay.toFixed(3)} (${m.falseAlerts} in ${m.nodeDays.toFixed(1)}) | ${m.f1.toFixed(3)} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The same as plain text for the console. */
export function metricsText(result: Pick<BacktestResult, 'scorers'>): string {
  const out: string[] = [];
  for (const scorer of result.scorers) {
    const m: EventMetrics | undefined = scorer.metrics;
    if (!m) continue;
    out.push(
      `${scorer.name} (threshold ${scorer.threshold}): event recall ${m.all.detected}/${m.all.events} = ${m.all.recall.toFixed(2)}, median ${fixed(m.all.medianTicksToDetect, 1)} ticks to detect, ${localizationText(m.all)}, false alerts ${m.falseAlerts} = ${m.falseAlertsPerNodeDay.toFixed(3)} per node-day, alert precision ${m.precision.toFixed(2)}, event F1 ${m.f1.toFixed(3)}`,
    );
    for (const k of m.kinds) {
      out.push(
        `  ${k.kind.padEnd(10)} ${`${k.detected}/${k.events}`.padStart(7)} recall ${k.recall.toFixed(2)}  ticks to detect ${fixed(k.medianTicksToDetect, 1).padStart(6)}  coverage ${fixed(k.coverage)}  ${localizationText(k)}  other-node alerts ${otherAlertsCell(k)}  modality named ${fixed(k.modalityRight)}`,
      );
    }
  }
  return out.join('\n') + '\n';
}

/** Metrics without the per-event detail, for a JSON report. */
export function metricsJson(result: BacktestResult): unknown {
  return {
    readings: result.readings,
    accepted: result.accepted,
    rejected: result.rejected.length,
    ticks: result.ticks,
    from: result.firstTick === null ? null : new Date(result.firstTick).toISOString(),
    to: result.lastTick === null ? null : new Date(result.lastTick).toISOString(),
    seconds: result.seconds,
    scorers: result.scorers.map((s) => ({
      name: s.name,
      threshold: s.threshold,
      alerts: s.spans.length,
      metrics: s.metrics && {
        ...s.metrics,
        outcomes: s.metrics.outcomes.map((o) => ({
          ...o,
          event: { ...o.event, start: new Date(o.event.start).toISOString(), end: new Date(o.event.end).toISOString() },
          firedAt: o.firedAt === null ? null : new Date(o.firedAt).toISOString(),
        })),
      },
    })),
  };
}
