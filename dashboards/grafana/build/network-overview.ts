/**
 * Network overview: the nodes at their floor-plan positions coloured by
 * anomaly probability, cluster health, active alerts, anomaly timeline.
 */
import {
  BarGaugeDisplayMode,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  FieldColorModeId,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  SortOrder,
  TableCellDisplayMode,
  TableCellHeight,
  TooltipDisplayMode,
  VizOrientation,
  type Dashboard,
  type FieldConfig,
} from '@grafana/schema';
import type {
  Options as XYOptions,
  FieldConfig as XYFieldConfig,
} from '@grafana/schema/dist/esm/raw/composable/xychart/panelcfg/x/XYChartPanelCfg_types.gen';
import type { Options as BarGaugeOptions } from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type { Options as TableOptions } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import { NODE_POSITION_MEASUREMENT } from '../../../store/node-positions.ts';
import {
  alarmThresholds,
  barChart,
  influx,
  panel,
  probabilityThresholds,
  tagIs,
  timeSeriesOptions,
  type PanelSpec,
} from './panels.ts';
import { DEFAULT_THRESHOLD, UIDS, dashboard, networkVariable, nodeDrillDownUrl } from './common.ts';
import { FEEDBACK_TABLE, SILENCES_TABLE, operatorTable } from './operator-tables.ts';

const net = tagIs('network', 'network');

/** Field defaults of every probability: 0–100 %, coloured by the alert threshold. */
export const probabilityField: FieldConfig = {
  unit: 'percentunit',
  min: 0,
  max: 1,
  decimals: 1,
  thresholds: probabilityThresholds(DEFAULT_THRESHOLD),
  color: { mode: FieldColorModeId.Thresholds },
};

/**
 * The highest probability per interval of every `tag` value (the nodes'
 * `probability`, the clusters' `cluster_probability` of the `anomaly`
 * measurement), one line each, on the right of a legend, with the threshold as
 * a dashed line.
 */
function probabilityLines(
  spec: Omit<PanelSpec, 'type' | 'targets' | 'options' | 'fieldConfig'> & {
    field: 'probability' | 'cluster_probability';
    tag: 'node' | 'cluster';
    alias: string;
    lineStyle: Record<string, unknown>;
  },
) {
  const { field, tag, alias, lineStyle, ...rest } = spec;
  return panel({
    ...rest,
    type: 'timeseries',
    targets: [
      influx(
        'A',
        `SELECT max("${field}") AS "probability" FROM "anomaly" WHERE ${net} AND $timeFilter GROUP BY time($__interval), "${tag}" fill(null)`,
        'time_series',
        alias,
      ),
    ],
    options: timeSeriesOptions('right'),
    fieldConfig: {
      defaults: {
        ...probabilityField,
        color: { mode: FieldColorModeId.PaletteClassic },
        custom: { ...lineStyle, thresholdsStyle: { mode: GraphThresholdsStyleMode.Dashed } },
      },
      overrides: [],
    },
  });
}

/** Latest probability of every node; the inner query keeps one row per node. */
const latestPerNode = `SELECT last("probability") AS "probability" FROM "anomaly" WHERE ${net} AND $timeFilter GROUP BY "node"`;

/** Latest anomaly verdict of every node: the detector's own, with the threshold in force. */
const latestVerdictPerNode = `SELECT last("is_anomaly") AS "is_anomaly" FROM "anomaly" WHERE ${net} AND $timeFilter GROUP BY "node"`;

function stat(id: number, x: number, title: string, description: string, query: string, defaults: FieldConfig) {
  return panel({
    id,
    type: 'stat',
    title,
    description,
    box: { x, y: 0, w: 4, h: 4 },
    targets: [influx('A', query)],
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: BigValueColorMode.Background,
      graphMode: BigValueGraphMode.None,
      textMode: BigValueTextMode.Value,
      justifyMode: BigValueJustifyMode.Center,
    } satisfies Partial<StatOptions>,
    fieldConfig: { defaults, overrides: [] },
  });
}

const countField = (alarm: boolean): FieldConfig => ({
  noValue: '0',
  decimals: 0,
  color: alarm ? { mode: FieldColorModeId.Thresholds } : { mode: FieldColorModeId.Fixed, fixedColor: 'blue' },
  thresholds: alarmThresholds(),
});

export const networkOverview: Dashboard = dashboard({
  uid: UIDS.overview,
  title: 'wsn-watch · Network overview',
  description:
    'Where the anomalies are: nodes at their positions coloured by anomaly probability, cluster health, alerts and the anomaly timeline.',
  templating: { list: [networkVariable] },
  panels: [
    stat(
      1,
      0,
      'Nodes scored',
      'Nodes with at least one score in the time range.',
      `SELECT count("probability") FROM (${latestPerNode})`,
      countField(false),
    ),
    stat(
      2,
      4,
      'Anomalous nodes now',
      'Nodes whose latest verdict is anomalous: above the threshold the detector runs with (is_anomaly; the model’s calibrated threshold unless one is configured).',
      `SELECT count("is_anomaly") FROM (${latestVerdictPerNode}) WHERE "is_anomaly" = true`,
      countField(true),
    ),
    stat(
      3,
      8,
      'Worst cluster',
      'Highest latest system probability over the clusters.',
      `SELECT max("probability") FROM (SELECT last("cluster_probability") AS "probability" FROM "anomaly" WHERE ${net} AND $timeFilter GROUP BY "cluster")`,
      { ...probabilityField, noValue: '–' },
    ),
    stat(
      4,
      12,
      'Anomalous node-ticks',
      'How many (node, tick) verdicts in the time range were anomalous.',
      `SELECT count("probability") FROM "anomaly" WHERE ${net} AND "is_anomaly" = true AND $timeFilter`,
      countField(true),
    ),
    panel({
      id: 5,
      type: 'alertlist',
      title: 'Active alerts',
      description:
        'Grafana-managed alert rules from provisioning/alerting: node probability, cluster probability, detector lag.',
      box: { x: 16, y: 0, w: 8, h: 8 },
      options: {
        viewMode: 'list',
        groupMode: 'default',
        groupBy: [],
        maxItems: 20,
        sortOrder: 1,
        dashboardAlerts: false,
        alertName: '',
        alertInstanceLabelFilter: '',
        stateFilter: { firing: true, pending: true, noData: false, normal: false, error: true },
      },
    }),
    panel({
      id: 6,
      type: 'xychart',
      title: 'Network map',
      description:
        'Every node at its floor-plan position (measurement node_position, written when the detector starts), coloured by its latest anomaly probability.',
      box: { x: 0, y: 4, w: 16, h: 14 },
      targets: [
        influx(
          'A',
          `SELECT last("x") AS "x", last("y") AS "y" FROM "${NODE_POSITION_MEASUREMENT}" WHERE ${net} GROUP BY "node", "cluster"`,
          'table',
        ),
        influx('B', latestPerNode, 'table'),
      ],
      // One row per node: its position joined with its latest probability.
      transformations: [
        { id: 'joinByField', options: { byField: 'node', mode: 'outer' } },
        { id: 'organize', options: { excludeByName: { Time: true, 'Time 1': true, 'Time 2': true } } },
      ],
      options: {
        // XYChartPanelCfg's SeriesMapping.Manual; the enum is declared in types only.
        mapping: 'manual' as XYOptions['mapping'],
        series: [
          {
            name: { fixed: 'nodes' },
            x: { matcher: { id: 'byName', options: 'x' } },
            y: { matcher: { id: 'byName', options: 'y' } },
            color: { matcher: { id: 'byName', options: 'probability' } },
          },
        ],
        legend: { showLegend: false, displayMode: LegendDisplayMode.List, placement: 'bottom', calcs: [] },
        tooltip: { mode: TooltipDisplayMode.Single, sort: SortOrder.None },
      } satisfies Partial<XYOptions>,
      fieldConfig: {
        defaults: {
          custom: {
            show: 'points' as XYFieldConfig['show'],
            pointSize: { fixed: 16 },
            pointStrokeWidth: 1,
            fillOpacity: 90,
          } satisfies Partial<XYFieldConfig>,
        },
        overrides: [
          {
            matcher: { id: 'byName', options: 'probability' },
            properties: [
              { id: 'color', value: { mode: FieldColorModeId.ContinuousGrYlRd } },
              { id: 'min', value: 0 },
              { id: 'max', value: 1 },
            ],
          },
          {
            matcher: { id: 'byName', options: 'x' },
            properties: [{ id: 'custom.axisLabel', value: 'x (floor plan)' }],
          },
          {
            matcher: { id: 'byName', options: 'y' },
            properties: [{ id: 'custom.axisLabel', value: 'y (floor plan)' }],
          },
        ],
      },
    }),
    panel({
      id: 7,
      type: 'bargauge',
      title: 'Cluster health',
      description: 'Latest system probability per cluster: the chance that something in the cluster is anomalous.',
      box: { x: 16, y: 8, w: 8, h: 10 },
      targets: [
        influx(
          'A',
          `SELECT last("cluster_probability") AS "probability" FROM "anomaly" WHERE ${net} AND $timeFilter GROUP BY "cluster"`,
          'time_series',
          '$tag_cluster',
        ),
      ],
      options: {
        orientation: VizOrientation.Horizontal,
        displayMode: BarGaugeDisplayMode.Gradient,
        showUnfilled: true,
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      } satisfies Partial<BarGaugeOptions>,
      fieldConfig: { defaults: probabilityField, overrides: [] },
    }),
    probabilityLines({
      id: 8,
      title: 'Anomaly timeline',
      description: `Each node’s anomaly probability over event time. The dashed line is a fixed reference (${DEFAULT_THRESHOLD}); the detector alerts with the threshold it runs with (the model’s calibrated one unless configured): see Anomalous nodes now.`,
      box: { x: 0, y: 18, w: 16, h: 10 },
      field: 'probability',
      tag: 'node',
      alias: 'node $tag_node',
      lineStyle: { lineWidth: 1, spanNulls: false },
    }),
    panel({
      id: 9,
      type: 'table',
      title: 'Nodes by anomaly probability',
      description: 'Latest verdict per node, worst first. Click a node for its drill-down.',
      box: { x: 16, y: 18, w: 8, h: 10 },
      targets: [
        influx(
          'A',
          `SELECT last("probability") AS "probability", last("score") AS "score" FROM "anomaly" WHERE ${net} AND $timeFilter GROUP BY "cluster", "node"`,
          'table',
        ),
      ],
      transformations: [
        {
          id: 'organize',
          options: { excludeByName: { Time: true }, indexByName: { node: 0, cluster: 1, probability: 2, score: 3 } },
        },
      ],
      options: {
        showHeader: true,
        sortBy: [{ displayName: 'probability', desc: true }],
        cellHeight: TableCellHeight.Sm,
      } satisfies Partial<TableOptions>,
      fieldConfig: {
        defaults: {},
        overrides: [
          {
            matcher: { id: 'byName', options: 'probability' },
            properties: [
              { id: 'unit', value: 'percentunit' },
              { id: 'decimals', value: 1 },
              { id: 'color', value: { mode: FieldColorModeId.Thresholds } },
              { id: 'thresholds', value: probabilityThresholds(DEFAULT_THRESHOLD) },
              { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } },
            ],
          },
          {
            matcher: { id: 'byName', options: 'node' },
            properties: [{ id: 'links', value: [{ title: 'Node drill-down', url: nodeDrillDownUrl }] }],
          },
          { matcher: { id: 'byName', options: 'score' }, properties: [{ id: 'decimals', value: 2 }] },
        ],
      },
    }),
    probabilityLines({
      id: 10,
      title: 'Cluster probability over time',
      description: 'System probability per cluster.',
      box: { x: 0, y: 28, w: 16, h: 8 },
      field: 'cluster_probability',
      tag: 'cluster',
      alias: '$tag_cluster',
      lineStyle: { lineWidth: 2 },
    }),
    barChart({
      id: 11,
      title: 'Anomalous nodes per interval',
      description: 'Count of anomalous (node, tick) verdicts per interval.',
      box: { x: 16, y: 28, w: 8, h: 8 },
      targets: [
        influx(
          'A',
          `SELECT count("probability") FROM "anomaly" WHERE ${net} AND "is_anomaly" = true AND $timeFilter GROUP BY time($__interval) fill(0)`,
          'time_series',
          'anomalous',
        ),
      ],
      showLegend: false,
      fillOpacity: 60,
      color: { mode: FieldColorModeId.Fixed, fixedColor: 'red' },
      style: { lineWidth: 1 },
    }),
    operatorTable(12, { x: 0, y: 36, w: 24, h: 7 }, SILENCES_TABLE),
    operatorTable(13, { x: 0, y: 43, w: 24, h: 7 }, FEEDBACK_TABLE),
  ],
});
