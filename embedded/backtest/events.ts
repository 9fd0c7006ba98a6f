/**
 * Known fault events (ground truth) and how a run's alerts measure up to
 * them: event recall per kind, time to detect, how long the alert stayed,
 * localization and false alerts per node-day.
 *
 * Localization comes in two figures. Strict: no other node of the cluster
 * alerted during the event. Fault-caused: no other node alerted that the
 * clean run (the same data without the injected faults) did not also alert
 * at about the same time; a network's background alerts say nothing about
 * whether a fault on one node makes its healthy neighbours alert.
 *
 * Events file (CSV with a header): node,modality,start,end,kind — times ISO
 * 8601 with a zone, or epoch ms; `end` is the last faulty instant.
 */
import { readUserTextFile } from '../../common/read-text.ts';
import path from 'node:path';
import { UserError } from '../../common/errors.ts';
import type { Alert } from '../../common/types.ts';
import { parseTimestamp } from '../../sources/history.ts';
import { median } from '../../common/median.ts';
import { DAY_MS } from '../../common/constants.ts';
import { readCsvTable } from './csv-table.ts';

export interface FaultEvent {
  node: string;
  modality: string;
  start: number;
  end: number;
  kind: string;
}

const EVENT_COLUMNS = ['node', 'modality', 'start', 'end', 'kind'] as const;

function eventError(file: string, line: number, message: string): UserError {
  return new UserError(
    'EVENTS_PARSE',
    `${file}:${line}: ${message}`,
    'The events file is a CSV with the header node,modality,start,end,kind; start and end are ISO 8601 times with a zone or epoch milliseconds.',
  );
}

export function parseEvents(text: string, file = 'events.csv'): FaultEvent[] {
  const { rows, column } = readCsvTable(text, file, EVENT_COLUMNS, 'EVENTS_PARSE', (line, message) =>
    eventError(file, line, message),
  );
  return rows.map((row, i) => {
    const line = i + 2;
    const field = (name: (typeof EVENT_COLUMNS)[number]): string => row[column(name)] ?? '';
    const node = field('node');
    if (node === '') throw eventError(file, line, 'node is empty');
    const start = parseTimestamp(field('start'));
    const end = parseTimestamp(field('end'));
    if (!Number.isFinite(start)) throw eventError(file, line, `start "${field('start')}" is not a time`);
    if (!Number.isFinite(end)) throw eventError(file, line, `end "${field('end')}" is not a time`);
    if (end < start) throw eventError(file, line, `end ${field('end')} is before start ${field('start')}`);
    const kind = field('kind') || 'unknown';
    return { node, modality: field('modality') || '*', start, end, kind };
  });
}

export function readEvents(file: string): FaultEvent[] {
  const text = readUserTextFile(file, 'EVENTS_MISSING', 'Check the path of --events.');
  return parseEvents(text, path.basename(file));
}

export function formatEventsCsv(events: readonly FaultEvent[]): string {
  return (
    [
      'node,modality,start,end,kind',
      ...events.map(
        (e) => `${e.node},${e.modality},${new Date(e.start).toISOString()},${new Date(e.end).toISOString()},${e.kind}`,
      ),
    ].join('\n') + '\n'
  );
}

/** One alert from firing to resolving (or to the end of the data). */
export interface AlertSpan {
  node: string;
  cluster: string;
  kind: Alert['kind'];
  modality: string;
  /** Tick the alert fired at. */
  fired: number;
  /** Tick the run above the threshold began (the alert's startsAt). */
  since: number;
  /** Tick it resolved at; null = still firing at the end. */
  resolved: number | null;
  probability: number;
}

/** Pairs firing and resolved transitions into spans. */
export function alertSpans(transitions: ReadonlyArray<{ tick: number; alert: Alert }>): AlertSpan[] {
  const open = new Map<string, AlertSpan>();
  const spans: AlertSpan[] = [];
  for (const { tick, alert } of transitions) {
    const key = `${alert.cluster}\u0000${alert.node}`;
    if (alert.status === 'firing') {
      const span: AlertSpan = {
        node: alert.node,
        cluster: alert.cluster,
        kind: alert.kind,
        modality: alert.modality,
        fired: tick,
        since: alert.startsAt,
        resolved: null,
        probability: alert.probability,
      };
      open.set(key, span);
      spans.push(span);
    } else {
      const span = open.get(key);
      if (span) {
        span.resolved = alert.endsAt ?? tick;
        span.probability = Math.max(span.probability, alert.probability);
        open.delete(key);
      }
    }
  }
  return spans;
}

export interface KindMetrics {
  kind: string;
  events: number;
  detected: number;
  recall: number;
  /** Median ticks from the event's start to the alert firing (detected events only); null when none. */
  medianTicksToDetect: number | null;
  /** Mean share of the event's ticks covered by a firing alert on the node (detected events). */
  coverage: number | null;
  /** Share of detected events whose alert named the event's modality. */
  modalityRight: number | null;
  /** Share of detected events where no other node of the cluster fired an alert during the event (strict). */
  localization: number | null;
  /** Share of detected events where no other node fired an alert the clean run did not have; null without a clean run. */
  localizationFaultCaused: number | null;
  /** Other nodes' anomaly alerts that fired during the detected events. */
  otherAlerts: number;
  /** Of those, the ones the clean run also had (background) and the rest (new); null without a clean run. */
  otherAlertsBackground: number | null;
  otherAlertsNew: number | null;
}

export interface EventMetrics {
  kinds: KindMetrics[];
  all: KindMetrics;
  /** Anomaly alerts that fired in the evaluated span. */
  anomalyAlerts: number;
  /**
   * Alerts that count for precision: every anomaly alert, and the silent
   * alerts that match an event (a dropout). A silent alert outside any event
   * says a node stopped reporting, which is true of the data, so it is no false alert.
   */
  countedAlerts: number;
  /** Of those, the ones that fired inside an event window of their node. */
  matchedAlerts: number;
  /** Anomaly alerts that fired outside every event window of their node. */
  falseAlerts: number;
  nodeDays: number;
  falseAlertsPerNodeDay: number;
  /** matchedAlerts / countedAlerts. */
  precision: number;
  /** Event F1: harmonic mean of event recall and alert precision. */
  f1: number;
  /** Per event: whether and when it was detected. */
  outcomes: EventOutcome[];
}

export interface EventOutcome {
  event: FaultEvent;
  detected: boolean;
  ticksToDetect: number | null;
  /** When the detecting alert fired, UTC ms. */
  firedAt: number | null;
  coverage: number;
  modalityRight: boolean;
  /** Other nodes of the cluster that fired during the event. */
  othersAlerted: string[];
  /** How many anomaly alerts those nodes fired during the event. */
  otherAlerts: number;
  /** Of those alerts, the ones the clean run also had (background); null without a clean run. */
  backgroundAlerts: number | null;
  /** The other nodes with an alert the clean run did not have; null without a clean run. */
  othersNew: string[] | null;
}

export interface MetricOptions {
  tickMs: number;
  /** Ticks after an event's end within which an alert still counts for it (the model needs a window to see it). */
  graceTicks: number;
  /** The evaluated span, UTC ms [from, to]: alerts outside it are ignored. */
  from: number;
  to: number;
  /** Nodes of the network (false alerts per node-day). */
  nodes: number;
  /** Cluster of each node (localization looks at the faulty node's cluster). */
  clusterOf: ReadonlyMap<string, string>;
  /**
   * The same scorer's alerts on the same data without the injected faults
   * (the clean run). When given, another node's alert during an event that
   * the clean run also had is background, not caused by the fault.
   */
  background?: readonly AlertSpan[];
}

/**
 * Whether the clean run had an anomaly alert on the same node firing at any
 * moment within [fired − grace, resolved + grace] of this alert (an alert
 * still firing at the end reaches to the end). The grace is the events
 * grace: the same alert can fire a few ticks earlier or later when the
 * faulty node's readings shift the cluster's scores or the stream's threshold.
 */
export function isBackgroundAlert(span: AlertSpan, clean: readonly AlertSpan[], graceMs: number): boolean {
  const from = span.fired - graceMs;
  const to = (span.resolved ?? Infinity) + graceMs;
  return clean.some(
    (c) => c.kind === 'anomaly' && c.node === span.node && c.fired <= to && (c.resolved === null || c.resolved >= from),
  );
}

const medianOrNull = (values: number[]): number | null => (values.length === 0 ? null : median(values));
const mean = (values: number[]): number | null =>
  values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;

/** Summary of the outcomes of one kind of event (or of all events). */
function summarizeOutcomes(kind: string, list: EventOutcome[]): KindMetrics {
  const detected = list.filter((o) => o.detected);
  const withClean = detected.length > 0 && detected.every((o) => o.othersNew !== null);
  const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
  const otherAlerts = sum(detected.map((o) => o.otherAlerts));
  const background = withClean ? sum(detected.map((o) => o.backgroundAlerts as number)) : null;
  return {
    kind,
    events: list.length,
    detected: detected.length,
    recall: list.length === 0 ? 0 : detected.length / list.length,
    medianTicksToDetect: medianOrNull(detected.map((o) => o.ticksToDetect as number)),
    coverage: mean(detected.map((o) => o.coverage)),
    modalityRight: detected.length === 0 ? null : detected.filter((o) => o.modalityRight).length / detected.length,
    localization:
      detected.length === 0 ? null : detected.filter((o) => o.othersAlerted.length === 0).length / detected.length,
    localizationFaultCaused: withClean
      ? detected.filter((o) => o.othersNew?.length === 0).length / detected.length
      : null,
    otherAlerts,
    otherAlertsBackground: background,
    otherAlertsNew: background === null ? null : otherAlerts - background,
  };
}

/** How one event was met by the alert spans in the measured window. */
function eventOutcome(
  event: FaultEvent,
  events: readonly FaultEvent[],
  inSpan: readonly AlertSpan[],
  options: MetricOptions,
  windowEnd: (e: FaultEvent) => number,
): EventOutcome {
  const { tickMs } = options;
  const mine = inSpan.filter((s) => s.node === event.node);
  // The first alert on the node that fired during the event (or its grace), or one already firing when it began.
  const hit = mine
    .filter(
      (s) =>
        (s.fired >= event.start && s.fired <= windowEnd(event)) ||
        (s.fired < event.start && (s.resolved === null || s.resolved > event.start)),
    )
    .sort((a, b) => a.fired - b.fired)[0];
  const eventTicks = Math.max(1, Math.floor((event.end - event.start) / tickMs) + 1);
  let covered = 0;
  for (let t = Math.floor(event.start / tickMs) * tickMs; t <= event.end; t += tickMs) {
    if (mine.some((s) => s.fired <= t && (s.resolved === null || s.resolved > t))) covered++;
  }
  const cluster = options.clusterOf.get(event.node);
  // Another node's alert explained by a fault of its own is not a localization failure.
  const ownFault = (s: AlertSpan): boolean =>
    events.some((e) => e !== event && e.node === s.node && s.fired >= e.start && s.fired <= windowEnd(e));
  const otherSpans = inSpan.filter(
    (s) =>
      s.kind === 'anomaly' &&
      s.node !== event.node &&
      (cluster === undefined || s.cluster === cluster) &&
      s.fired >= event.start &&
      s.fired <= windowEnd(event) &&
      !ownFault(s),
  );
  const { background } = options;
  const graceMs = options.graceTicks * tickMs;
  const newSpans = background && otherSpans.filter((s) => !isBackgroundAlert(s, background, graceMs));
  return {
    event,
    detected: hit !== undefined,
    ticksToDetect: hit ? Math.max(0, Math.round((hit.fired - event.start) / tickMs)) : null,
    firedAt: hit?.fired ?? null,
    coverage: Math.min(1, covered / eventTicks),
    modalityRight: hit !== undefined && (event.modality === '*' || hit.modality === event.modality),
    othersAlerted: [...new Set(otherSpans.map((s) => s.node))],
    otherAlerts: otherSpans.length,
    backgroundAlerts: newSpans ? otherSpans.length - newSpans.length : null,
    othersNew: newSpans ? [...new Set(newSpans.map((s) => s.node))] : null,
  };
}

/** Measures alert spans against events. */
export function eventMetrics(
  events: readonly FaultEvent[],
  spans: readonly AlertSpan[],
  options: MetricOptions,
): EventMetrics {
  const grace = options.graceTicks * options.tickMs;
  const inSpan = spans.filter((s) => s.fired >= options.from && s.fired <= options.to);
  const windowEnd = (e: FaultEvent): number => e.end + grace;
  const outcomes: EventOutcome[] = events.map((event) => eventOutcome(event, events, inSpan, options, windowEnd));
  const summarize = summarizeOutcomes;
  const kinds = [...new Set(events.map((e) => e.kind))].map((kind) =>
    summarize(
      kind,
      outcomes.filter((o) => o.event.kind === kind),
    ),
  );
  const anomalyAlerts = inSpan.filter((s) => s.kind === 'anomaly');
  const matched = (s: AlertSpan): boolean =>
    events.some((e) => e.node === s.node && s.fired >= e.start && s.fired <= windowEnd(e));
  const falseAlerts = anomalyAlerts.filter((s) => !matched(s)).length;
  const matchedSilent = inSpan.filter((s) => s.kind === 'silent' && matched(s)).length;
  const countedAlerts = anomalyAlerts.length + matchedSilent;
  const matchedAlerts = countedAlerts - falseAlerts;
  const nodeDays = (options.nodes * Math.max(0, options.to - options.from)) / DAY_MS;
  const all = summarize('all', outcomes);
  const precision = countedAlerts === 0 ? 0 : matchedAlerts / countedAlerts;
  const f1 = precision + all.recall === 0 ? 0 : (2 * precision * all.recall) / (precision + all.recall);
  return {
    kinds,
    all,
    anomalyAlerts: anomalyAlerts.length,
    countedAlerts,
    matchedAlerts,
    falseAlerts,
    nodeDays,
    falseAlertsPerNodeDay: nodeDays > 0 ? falseAlerts / nodeDays : 0,
    precision,
    f1,
    outcomes,
  };
}
