/**
 * The demo's closing summary: for every fault the run announced, whether an
 * alert on its node followed (and how many ticks after the fault began),
 * which faults were missed, which the run never reached in event time, and
 * which nodes alerted without a fault of their own. The matching rules are
 * backtest's (embedded/backtest/events.ts), so the demo and the evaluation
 * count the same way.
 */
import type { Alert } from '../common/types.ts';
import type { DemoFault } from '../sources/demo-faults.ts';
import { alertSpans, eventMetrics, type AlertSpan } from './backtest/events.ts';

export interface DemoFaultOutcome {
  fault: DemoFault;
  status: 'detected' | 'missed' | 'not reached' | 'not seen by the model';
  /** Ticks from the fault's start to the first tick of the alert's run above the threshold. */
  ticksToDetect?: number;
  /** Modality the alert named. */
  alertModality?: string;
  /** Whether the alert was still firing when the demo stopped. */
  stillFiring?: boolean;
}

export interface DemoFaultSummary {
  outcomes: DemoFaultOutcome[];
  /** Alerts on nodes without a fault of their own at that time. */
  others: AlertSpan[];
}

export interface SummaryInput {
  faults: readonly DemoFault[];
  /** Alert transitions as the console route received them, in order. */
  alerts: readonly Alert[];
  /** Newest tick the detector scored (null: none). */
  newestTick: number | null;
  tickMs: number;
  /** Ticks after a fault's end an alert still counts for it (the model's window). */
  graceTicks: number;
  /** Modalities the model sees; faults elsewhere (light) cannot be alerted as anomalies. */
  modalities: readonly string[];
  clusterOf: ReadonlyMap<string, string>;
  nodes: number;
}

export function summarizeDemoFaults(input: SummaryInput): DemoFaultSummary {
  const { tickMs } = input;
  // A transition's tick: when it fired, the first tick of its run above the threshold; when it resolved, its end.
  const spans = alertSpans(
    input.alerts.map((alert) => ({
      tick: alert.status === 'firing' ? alert.startsAt : (alert.endsAt ?? alert.startsAt),
      alert,
    })),
  );
  const events = input.faults.map((f) => ({
    node: f.node,
    modality: f.modality,
    start: f.fromTs,
    end: f.toTs,
    kind: f.kind,
  }));
  const to = input.newestTick ?? 0;
  const metrics = eventMetrics(events, spans, {
    tickMs,
    graceTicks: input.graceTicks,
    from: -Infinity,
    to: Infinity,
    nodes: input.nodes,
    clusterOf: input.clusterOf,
  });
  const outcomes: DemoFaultOutcome[] = metrics.outcomes.map((o, i) => {
    const fault = input.faults[i];
    if (input.newestTick === null || fault.fromTs > to) return { fault, status: 'not reached' };
    if (fault.modality !== '*' && !input.modalities.includes(fault.modality) && !o.detected)
      return { fault, status: 'not seen by the model' };
    if (!o.detected) return { fault, status: 'missed' };
    const span = spans.find((s) => s.node === fault.node && s.fired === o.firedAt);
    return {
      fault,
      status: 'detected',
      ticksToDetect: o.ticksToDetect ?? undefined,
      alertModality: span?.kind === 'silent' ? 'silent' : span?.modality,
      stillFiring: span?.resolved === null,
    };
  });
  const grace = input.graceTicks * tickMs;
  const others = spans.filter(
    (s) =>
      s.kind === 'anomaly' &&
      !events.some((e) => e.node === s.node && s.fired >= e.start - grace && s.fired <= e.end + grace),
  );
  return { outcomes, others };
}

const iso = (ts: number): string => new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Console lines of the summary. */
export function formatDemoFaultSummary(summary: DemoFaultSummary): string[] {
  const count = (status: DemoFaultOutcome['status']) => summary.outcomes.filter((o) => o.status === status).length;
  const lines = [
    `demo: faults: ${count('detected')} detected, ${count('missed')} missed, ${count('not reached')} not reached in event time, ${count('not seen by the model')} in a modality the model does not see`,
  ];
  for (const o of summary.outcomes) {
    const f = o.fault;
    const what = `${f.kind} on node ${f.node}${f.modality === '*' ? '' : ` ${f.modality}`} from ${iso(f.fromTs)}`;
    if (o.status === 'detected') {
      lines.push(
        `  detected: ${what}: alert on node ${f.node} (${o.alertModality}) ${o.ticksToDetect} tick(s) after it began${o.stillFiring ? ', still firing' : ''}`,
      );
    } else {
      lines.push(`  ${o.status}: ${what}`);
    }
  }
  const nodes = [...new Set(summary.others.map((s) => s.node))];
  lines.push(
    nodes.length === 0
      ? '  other nodes alerted: none'
      : `  other nodes alerted (no fault of their own): ${summary.others.map((s) => `node ${s.node} (${s.modality}) at ${iso(s.fired)}`).join('; ')}`,
  );
  return lines;
}
