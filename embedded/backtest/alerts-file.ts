/**
 * Reads back the alerts CSV a backtest writes (`--alerts`), so that a clean
 * backtest's alerts can tell an injected run's background alerts from the
 * ones its faults caused (`--clean-alerts`).
 *
 * Columns: scorer,node,cluster,kind,modality,since,fired,resolved,probability;
 * times ISO 8601 with a zone or epoch ms; `resolved` empty while still firing.
 */
import { readUserTextFile } from '../../common/read-text.ts';
import path from 'node:path';
import { UserError } from '../../common/errors.ts';
import type { AlertKind } from '../../common/types.ts';
import { parseTimestamp } from '../../sources/history.ts';
import type { AlertSpan } from './events.ts';
import { readCsvTable } from './csv-table.ts';

const ALERT_COLUMNS = ['scorer', 'node', 'kind', 'fired', 'resolved'] as const;
const ALERT_KINDS: readonly AlertKind[] = ['anomaly', 'silent', 'topology'];

function alertsError(file: string, line: number, message: string): UserError {
  return new UserError(
    'ALERTS_PARSE',
    `${file}:${line}: ${message}`,
    'Pass the alerts CSV a clean backtest wrote with --alerts (header scorer,node,cluster,kind,modality,since,fired,resolved,probability).',
  );
}

/** One row as a span; throws naming the line when a field is not what the header says. */
function rowSpan(row: string[], column: (name: string) => number, file: string, line: number): AlertSpan {
  const field = (name: string): string => (column(name) < 0 ? '' : (row[column(name)] ?? ''));
  const node = field('node');
  if (node === '') throw alertsError(file, line, 'node is empty');
  const kind = field('kind') as AlertKind;
  if (!ALERT_KINDS.includes(kind))
    throw alertsError(file, line, `kind "${field('kind')}" is not one of ${ALERT_KINDS.join(', ')}`);
  const fired = parseTimestamp(field('fired'));
  if (!Number.isFinite(fired)) throw alertsError(file, line, `fired "${field('fired')}" is not a time`);
  const resolved = field('resolved') === '' ? null : parseTimestamp(field('resolved'));
  if (resolved !== null && !Number.isFinite(resolved))
    throw alertsError(file, line, `resolved "${field('resolved')}" is not a time`);
  const since = parseTimestamp(field('since'));
  const probability = Number(field('probability'));
  return {
    node,
    cluster: field('cluster'),
    kind,
    modality: field('modality'),
    fired,
    since: Number.isFinite(since) ? since : fired,
    resolved,
    probability: Number.isFinite(probability) ? probability : 0,
  };
}

/** The spans of each scorer in an alerts CSV. */
export function parseAlertsCsv(text: string, file = 'alerts.csv'): Map<string, AlertSpan[]> {
  const { rows, column } = readCsvTable(text, file, ALERT_COLUMNS, 'ALERTS_PARSE', (line, message) =>
    alertsError(file, line, message),
  );
  const byScorer = new Map<string, AlertSpan[]>();
  rows.forEach((row, i) => {
    const scorer = row[column('scorer')] ?? '';
    if (scorer === '') throw alertsError(file, i + 2, 'scorer is empty');
    const spans = byScorer.get(scorer) ?? [];
    spans.push(rowSpan(row, column, file, i + 2));
    byScorer.set(scorer, spans);
  });
  return byScorer;
}

export function readAlertsFile(file: string): Map<string, AlertSpan[]> {
  const text = readUserTextFile(file, 'ALERTS_MISSING', 'Check the path of --clean-alerts.');
  return parseAlertsCsv(text, path.basename(file));
}
