/**
 * The tables of what operators did (maintenance silences, feedback on
 * alerts): one panel builder, and one table spec per operator measurement.
 */
import { TableCellHeight, type FieldConfigSource } from '@grafana/schema';
import type { Options as TableOptions } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import { influx, panel, tagIs, type Box } from './panels.ts';
import { nodeDrillDownUrl } from './common.ts';

/** An operator table: `columns` of `measurement` in order, `renamed` shown under other names, `overrides` on top. */
export interface OperatorTableSpec {
  title: string;
  description: string;
  measurement: string;
  columns: string[];
  renamed: Record<string, string>;
  overrides: FieldConfigSource['overrides'];
}

/** The newest 50 points of an operator measurement in the network, whatever the time range. */
export function operatorTable(id: number, box: Box, spec: OperatorTableSpec) {
  const { columns } = spec;
  return panel({
    id,
    type: 'table',
    title: spec.title,
    description: spec.description,
    box,
    targets: [
      influx(
        'A',
        `SELECT ${columns.map((column) => `"${column}"`).join(', ')} FROM "${spec.measurement}" WHERE ${tagIs('network', 'network')} ORDER BY time DESC LIMIT 50`,
        'table',
      ),
    ],
    transformations: [
      {
        id: 'organize',
        options: {
          indexByName: Object.fromEntries(columns.map((column, i) => [column, i])),
          renameByName: spec.renamed,
        },
      },
    ],
    options: { showHeader: true, cellHeight: TableCellHeight.Sm } satisfies Partial<TableOptions>,
    fieldConfig: { defaults: {}, overrides: spec.overrides },
  });
}

/** The maintenance silences (`wsn-watch silence add`) from their `silence` points, newest first, whatever the time range. */
export const SILENCES_TABLE: OperatorTableSpec = {
  title: 'Maintenance silences',
  description:
    'Silences added with `wsn-watch silence add` (newest 50, whatever the time range): while one is active the node is still scored and stored (anomaly points carry silenced=true) but its alerts are suppressed. "ends" moves to the moment of expiry when one is expired early (expired = true).',
  measurement: 'silence',
  columns: ['node', 'modality', 'ends_at', 'author', 'reason', 'expired'],
  renamed: { Time: 'starts', ends_at: 'ends' },
  overrides: [
    { matcher: { id: 'byName', options: 'ends_at' }, properties: [{ id: 'unit', value: 'dateTimeAsIso' }] },
    {
      matcher: { id: 'byName', options: 'node' },
      properties: [{ id: 'links', value: [{ title: 'Node drill-down', url: nodeDrillDownUrl }] }],
    },
  ],
};

/** Operator feedback on alerts (`wsn-watch feedback mark`, the built-in dashboard's buttons), newest marks first. */
export const FEEDBACK_TABLE: OperatorTableSpec = {
  title: 'Operator feedback',
  description:
    'Alerts marked a false alarm or confirmed (newest 50 marks, whatever the time range). A false alarm raises its node’s threshold (for the alert’s modality) above the alert’s peak probability for a while; "alert started" is the episode a retraining can leave out (false) or keep (true).',
  measurement: 'feedback',
  columns: ['node', 'modality', 'verdict', 'probability', 'marked_at', 'author', 'note'],
  renamed: { Time: 'alert started', probability: 'peak', marked_at: 'marked' },
  overrides: [
    { matcher: { id: 'byName', options: 'marked_at' }, properties: [{ id: 'unit', value: 'dateTimeAsIso' }] },
    { matcher: { id: 'byName', options: 'probability' }, properties: [{ id: 'decimals', value: 3 }] },
  ],
};
