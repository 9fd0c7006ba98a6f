/** What `wsn-watch model list` and `model show` print. */
import type { ModelVersion } from '../../model/registry/store.ts';
import { shadowRunOf, type PromotedModel } from './pointer.ts';

const iso = (text: string | null): string => (text ? text.replace(/\.\d{3}Z$/, 'Z') : '?');
const fixed = (value: number | undefined, digits = 3): string => (value === undefined ? '-' : value.toFixed(digits));

/** Where a version stands in the network's promotion record: promoted now, promoted before, or never. */
export function promotionState(version: ModelVersion, promoted: PromotedModel | undefined): string {
  if (!promoted) return '';
  if (promoted.shadow?.version === version.id) return `shadowing (since ${iso(promoted.shadow.since)})`;
  if (promoted.version === version.id)
    return `promoted (since ${iso(promoted.promotedAt)}${promoted.action === 'rollback' ? ', by rollback' : ''})`;
  return promoted.previous.some((entry) => entry.version === version.id) ? 'before' : '';
}

function dataRange(version: ModelVersion): string {
  const { from, to, source } = version.dataRange;
  return from && to ? `${iso(from)}..${iso(to)}` : source;
}

/** The table of `model list`: one row per version, the promoted one marked. */
export function formatVersionTable(versions: readonly ModelVersion[], promoted: PromotedModel | undefined): string {
  const header = ['VERSION', 'CREATED', 'NETWORK', 'DATA', 'THRESHOLD', 'F1', 'FALSE ALERTS', 'PARENT', 'PROMOTED'];
  const rows = versions.map((version) => [
    version.id,
    iso(version.created),
    version.network,
    dataRange(version),
    fixed(version.threshold),
    fixed(version.metrics.f1),
    version.metrics.falseAlertBudget === undefined ? '-' : `≤${version.metrics.falseAlertBudget}/node-day`,
    version.parent ?? '-',
    promotionState(version, promoted),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** `model show`: every stored fact of one version, one per line. */
export function formatVersion(
  version: ModelVersion,
  folder: string,
  promoted: PromotedModel | undefined,
  model: { modalities: string[]; window: number } | undefined,
): string {
  const { dataRange: range, metrics } = version;
  const lines: Array<[string, string]> = [
    ['version', version.id],
    ['created', version.created],
    ['network', version.network],
    ['parent', version.parent ?? '(none)'],
    ['origin', version.origin],
    ['data', range.source],
    ['data range', range.from && range.to ? `${range.from} .. ${range.to}` : '(not recorded)'],
    ['samples', range.samples === null ? '(not recorded)' : String(range.samples)],
    ['threshold', String(version.threshold)],
    ['validation', `F1 ${fixed(metrics.f1)}, precision ${fixed(metrics.precision)}, recall ${fixed(metrics.recall)}`],
    [
      'false alerts',
      metrics.falseAlertBudget === undefined
        ? '-'
        : `calibrated for ≤${metrics.falseAlertBudget} per healthy node-day (${metrics.cleanExcursions ?? '?'} clean excursions)`,
    ],
    ['validation loss', fixed(metrics.validationLoss, 4)],
    ['model', model ? `modalities [${model.modalities.join(', ')}], window ${model.window}` : '-'],
    ['files', folder],
    ['sha256', version.sha256],
    ['promoted', promotionState(version, promoted).replace(/^shadowing.*/, '') || 'no'],
    ['shadow', shadowState(version, promoted)],
  ];
  if (version.note) lines.push(['note', version.note]);
  const excluded = version.exclusions;
  if (excluded)
    lines.push([
      'left out',
      `${excluded.nodeTicks - excluded.kept} of ${excluded.nodeTicks} stored node-ticks: ${excluded.alerted} alerted, ${excluded.silenced} silenced, ${excluded.confirmed} of confirmed faults (±${excluded.marginTicks} ticks); ${excluded.falseAlarmsKept} of false alarms kept`,
    ]);
  const width = Math.max(...lines.map(([key]) => key.length));
  return lines.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${value}`).join('\n');
}

/** `model show`: whether the version is shadow-scored now, or was, and when. */
function shadowState(version: ModelVersion, promoted: PromotedModel | undefined): string {
  const run = shadowRunOf(promoted, version.id);
  if (!run) return 'never shadow-scored';
  const live = promoted?.shadow === run ? ` beside ${promoted.version}` : '';
  return `${run.until ? 'shadow-scored' : 'shadow-scoring'}${live} from ${iso(run.since)}${run.until ? ` to ${iso(run.until)}` : ''} (threshold ${run.threshold})`;
}
