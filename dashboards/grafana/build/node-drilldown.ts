/**
 * Node drill-down (variables network, node): each modality's readings against
 * the model's reconstruction, the probability, the reconstruction errors, and
 * the anomalous ticks as annotations.
 */
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  FieldColorModeId,
  GraphThresholdsStyleMode,
  type Dashboard,
} from '@grafana/schema';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import { alarmThresholds, influx, INFLUX, panel, tagIs, tagVariable, timeSeriesOptions } from './panels.ts';
import { DEFAULT_THRESHOLD, UIDS, dashboard } from './common.ts';
import { probabilityField } from './network-overview.ts';

const where = `${tagIs('network', 'network')} AND ${tagIs('node', 'node')} AND $timeFilter`;

const nodeVariable = tagVariable(
  'node',
  'Node',
  `SHOW TAG VALUES FROM "anomaly" WITH KEY = "node" WHERE ${tagIs('network', 'network')}`,
);
/** The modalities are the `value_<modality>` field keys of `anomaly`; the regex keeps the modality's name. */
const modalityVariable = {
  ...tagVariable('modality', 'Modality', 'SHOW FIELD KEYS FROM "anomaly"'),
  regex: '/^value_(.+)$/',
  multi: true,
  includeAll: true,
  current: { text: 'All', value: '$__all' },
};

/** The node's mean anomaly probability per interval: the stat's sparkline and the probability chart. */
const meanProbability = influx(
  'A',
  `SELECT mean("probability") AS "probability" FROM "anomaly" WHERE ${where} GROUP BY time($__interval) fill(null)`,
  'time_series',
  'probability',
);

const statOptions = (textMode: BigValueTextMode): Partial<StatOptions> => ({
  reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
  colorMode: BigValueColorMode.Background,
  graphMode: BigValueGraphMode.Area,
  textMode,
});

export const nodeDrillDown: Dashboard = dashboard({
  uid: UIDS.node,
  title: 'wsn-watch · Node drill-down',
  description:
    "One node: each modality's readings against the model's reconstruction, its anomaly probability and reconstruction errors.",
  variables: [nodeVariable, modalityVariable],
  annotations: {
    list: [
      {
        name: 'Anomalous ticks',
        datasource: INFLUX,
        enable: true,
        iconColor: 'red',
        target: influx('Anno', `SELECT "probability" FROM "anomaly" WHERE "is_anomaly" = true AND ${where}`, 'table'),
      },
    ],
  },
  panels: [
    panel({
      id: 1,
      type: 'stat',
      title: 'Anomaly probability',
      box: { x: 0, y: 0, w: 6, h: 5 },
      targets: [meanProbability],
      options: statOptions(BigValueTextMode.Value),
      fieldConfig: { defaults: probabilityField, overrides: [] },
    }),
    panel({
      id: 2,
      type: 'stat',
      title: 'Cluster',
      description: 'The cluster the node is scored in (its latest one).',
      box: { x: 6, y: 0, w: 6, h: 5 },
      targets: [
        influx(
          'A',
          `SELECT last("probability") FROM "anomaly" WHERE ${where} GROUP BY "cluster"`,
          'time_series',
          '$tag_cluster',
        ),
      ],
      options: {
        ...statOptions(BigValueTextMode.Name),
        colorMode: BigValueColorMode.None,
        graphMode: BigValueGraphMode.None,
      },
      fieldConfig: { defaults: {}, overrides: [] },
    }),
    panel({
      id: 3,
      type: 'stat',
      title: 'Anomalous ticks',
      description: 'Ticks in the time range the detector called anomalous.',
      box: { x: 12, y: 0, w: 6, h: 5 },
      targets: [
        influx(
          'A',
          `SELECT count("probability") FROM "anomaly" WHERE "is_anomaly" = true AND ${where}`,
          'time_series',
          'anomalous ticks',
        ),
      ],
      options: { ...statOptions(BigValueTextMode.Value), graphMode: BigValueGraphMode.None },
      fieldConfig: {
        defaults: {
          noValue: '0',
          decimals: 0,
          color: { mode: FieldColorModeId.Thresholds },
          thresholds: alarmThresholds(),
        },
        overrides: [],
      },
    }),
    panel({
      id: 4,
      type: 'stat',
      title: 'Readings in range',
      box: { x: 18, y: 0, w: 6, h: 5 },
      targets: [influx('A', `SELECT count(/^value_/) FROM "anomaly" WHERE ${where}`, 'time_series')],
      options: {
        ...statOptions(BigValueTextMode.ValueAndName),
        colorMode: BigValueColorMode.None,
        graphMode: BigValueGraphMode.None,
      },
      fieldConfig: { defaults: { decimals: 0, noValue: '0' }, overrides: [] },
    }),
    panel({
      id: 5,
      type: 'timeseries',
      title: 'Anomaly probability',
      description: `The dashed line is a fixed reference (${DEFAULT_THRESHOLD}); the ticks the detector found anomalous, with the threshold it runs with (the model’s calibrated one unless configured), are marked as annotations.`,
      box: { x: 0, y: 5, w: 24, h: 7 },
      targets: [meanProbability],
      options: timeSeriesOptions('bottom', false),
      fieldConfig: {
        defaults: {
          ...probabilityField,
          color: { mode: FieldColorModeId.Fixed, fixedColor: 'orange' },
          custom: { lineWidth: 2, fillOpacity: 15, thresholdsStyle: { mode: GraphThresholdsStyleMode.DashedAndArea } },
        },
        overrides: [],
      },
    }),
    panel({
      id: 6,
      type: 'timeseries',
      title: '$modality: measured vs reconstruction',
      description:
        "The node's aligned reading (solid) and the model's reconstruction of it (dashed). Where they part, the model did not expect the reading.",
      box: { x: 0, y: 12, w: 12, h: 8 },
      repeat: 'modality',
      targets: [
        influx(
          'A',
          `SELECT mean("value_$modality") AS "measured" FROM "anomaly" WHERE ${where} GROUP BY time($__interval) fill(null)`,
          'time_series',
          'measured',
        ),
        influx(
          'B',
          `SELECT mean("rec_$modality") AS "reconstruction" FROM "anomaly" WHERE ${where} GROUP BY time($__interval) fill(null)`,
          'time_series',
          'reconstruction',
        ),
      ],
      options: timeSeriesOptions('bottom'),
      fieldConfig: {
        defaults: { custom: { lineWidth: 2, spanNulls: false } },
        overrides: [
          {
            matcher: { id: 'byName', options: 'measured' },
            properties: [{ id: 'color', value: { mode: FieldColorModeId.Fixed, fixedColor: 'green' } }],
          },
          {
            matcher: { id: 'byName', options: 'reconstruction' },
            properties: [
              { id: 'color', value: { mode: FieldColorModeId.Fixed, fixedColor: 'blue' } },
              { id: 'custom.lineStyle', value: { fill: 'dash', dash: [8, 4] } },
            ],
          },
        ],
      },
    }),
    panel({
      id: 7,
      type: 'timeseries',
      title: 'Reconstruction error per modality',
      description:
        'Mean squared error on normalized values; the modality with the largest error is named in the alert.',
      box: { x: 0, y: 28, w: 24, h: 8 },
      targets: [
        influx(
          'A',
          `SELECT mean(/^err_/) FROM "anomaly" WHERE ${where} GROUP BY time($__interval) fill(null)`,
          'time_series',
        ),
      ],
      options: timeSeriesOptions('right'),
      fieldConfig: {
        defaults: { color: { mode: FieldColorModeId.PaletteClassic }, custom: { lineWidth: 1 } },
        overrides: [],
      },
    }),
  ],
});
