/**
 * Pipeline health, from the `pipeline` measurement the detector writes per
 * batch (tags network, source) and the `value_<modality>` fields of the `anomaly` points.
 */
import { FieldColorModeId, type Dashboard, type FieldColor, type Panel } from '@grafana/schema';
import { barChart, influx, panel, tagIs, timeSeriesOptions, type Box, type PanelSpec } from './panels.ts';
import { UIDS, dashboard, networkVariable } from './common.ts';

/** A line chart with the legend below, lines 2 px wide, in `unit`. */
function lineChart(spec: Omit<PanelSpec, 'type' | 'options' | 'fieldConfig'> & { unit: string; color?: FieldColor }) {
  const { unit, color, ...rest } = spec;
  return panel({
    ...rest,
    type: 'timeseries',
    options: timeSeriesOptions('bottom'),
    fieldConfig: { defaults: { unit, ...(color ? { color } : {}), custom: { lineWidth: 2 } }, overrides: [] },
  });
}

/**
 * Id and place of panel `n` (from 1): the dashboard is a grid of 12 × 8
 * panels, two a row, numbered in reading order.
 */
function gridCell(n: number): { id: number; box: Box } {
  return { id: n, box: { x: ((n - 1) % 2) * 12, y: Math.floor((n - 1) / 2) * 8, w: 12, h: 8 } };
}

const where = `${tagIs('network', 'network')} AND $timeFilter`;
/** The points ingest writes (ingest/stats-reporter.ts). */
const ingestWhere = `${tagIs('network', 'network')} AND "source" = 'ingest' AND $timeFilter`;

/** One series per detector replica (tag source): `aggregate` of a `pipeline` field per interval. */
const perReplica = (aggregate: string) =>
  influx(
    'A',
    `SELECT ${aggregate} FROM "pipeline" WHERE ${where} GROUP BY time($__interval), "source" fill(null)`,
    'time_series',
    '$tag_source',
  );

/** Per-second rates of ingest's counters (field → series name): each point counts over `interval_ms` of wall time. */
function ingestRates(counters: Record<string, string>): string {
  const columns = Object.entries(counters).map(
    ([field, alias]) => `sum("${field}") / sum("interval_ms") * 1000 AS "${alias}"`,
  );
  return `SELECT ${columns.join(', ')} FROM "pipeline" WHERE ${ingestWhere} GROUP BY time($__interval) fill(null)`;
}

export const pipelineHealth: Dashboard = dashboard({
  uid: UIDS.pipeline,
  title: 'wsn-watch · Pipeline health',
  description:
    'Throughput, latency and event-time lag of the detector; ingest rate, DLQ rate and watermark lag; readings stored per interval.',
  templating: { list: [networkVariable] },
  panels: [
    barChart({
      ...gridCell(1),
      title: 'Readings stored per interval',
      description: 'Aligned readings written to InfluxDB per interval of event time, one series per modality.',
      targets: [
        influx(
          'A',
          `SELECT count(/^value_/) FROM "anomaly" WHERE ${where} GROUP BY time($__interval) fill(0)`,
          'time_series',
          '$col',
        ),
      ],
      fillOpacity: 50,
      color: { mode: FieldColorModeId.PaletteClassic },
    }),
    lineChart({
      ...gridCell(2),
      title: 'Detector throughput',
      description: 'Frames scored per second of wall time, per detector replica (tag source).',
      targets: [perReplica('mean("frames_per_s")')],
      unit: 'short',
    }),
    lineChart({
      ...gridCell(3),
      title: 'Detector latency',
      description: 'Wall time of a batch (decode, model, sinks) and of the model call alone.',
      targets: [
        influx(
          'A',
          `SELECT mean("batch_ms") AS "batch (mean)", max("batch_ms") AS "batch (max)", mean("model_ms") AS "model (mean)" FROM "pipeline" WHERE ${where} GROUP BY time($__interval) fill(null)`,
          'time_series',
          '$col',
        ),
      ],
      unit: 'ms',
    }),
    lineChart({
      ...gridCell(4),
      title: 'Event-time lag',
      description:
        'Wall clock minus the newest tick of each batch: how far behind the sensors the detector runs. Large for replays of old data, by design.',
      targets: [perReplica('max("event_lag_ms")')],
      unit: 'ms',
    }),
    barChart({
      ...gridCell(5),
      title: 'Frames scored and skipped',
      description:
        'Skipped frames were already scored (tick at or before the checkpoint), e.g. redelivered after a rebalance.',
      targets: [
        influx(
          'A',
          `SELECT sum("frames") AS "scored", sum("skipped_frames") AS "skipped" FROM "pipeline" WHERE ${where} GROUP BY time($__interval) fill(0)`,
          'time_series',
          '$col',
        ),
      ],
      fillOpacity: 50,
      style: { stacking: { mode: 'normal', group: 'A' } },
      overrides: [
        {
          matcher: { id: 'byName', options: 'skipped' },
          properties: [{ id: 'color', value: { mode: FieldColorModeId.Fixed, fixedColor: 'orange' } }],
        },
      ],
    }),
    lineChart({
      ...gridCell(6),
      title: 'Ingest: DLQ rate',
      description:
        'Messages sent to wsn.readings.dlq per second of wall time (late ones among them), from the pipeline points ingest writes (source = ingest).',
      targets: [influx('A', ingestRates({ rejected: 'rejected/s', late: 'late/s' }), 'time_series', '$col')],
      unit: 'short',
      color: { mode: FieldColorModeId.Fixed, fixedColor: 'red' },
    }),
    lineChart({
      ...gridCell(7),
      title: 'Ingest rate',
      description:
        'Readings accepted and frames published per second of wall time, from the pipeline points ingest writes (source = ingest).',
      targets: [
        influx('A', ingestRates({ accepted: 'readings/s', frames_published: 'frames/s' }), 'time_series', '$col'),
      ],
      unit: 'short',
    }),
    lineChart({
      ...gridCell(8),
      title: 'Ingest watermark lag',
      description:
        'Wall clock minus the event-time watermark of ingest: how far behind the sensors frames are emitted (the allowed lateness at least). Large for replays of old data, by design.',
      targets: [
        influx(
          'A',
          `SELECT max("watermark_lag_ms") AS "watermark lag" FROM "pipeline" WHERE ${ingestWhere} GROUP BY time($__interval) fill(null)`,
          'time_series',
          '$col',
        ),
      ],
      unit: 'ms',
    }),
    ...modelVersionPanels(9),
  ],
});

/**
 * The model version in use (`wsn-watch model promote`): the version tag of
 * the scored `anomaly` points, per cluster for the newest tick, and node-ticks
 * scored per version over time, where a swap shows as the step from one to the other.
 * Panels `first` and `first + 1` of the grid.
 */
function modelVersionPanels(first: number): Panel[] {
  return [
    panel({
      ...gridCell(first),
      type: 'table',
      title: 'Model version in use',
      description:
        'Per cluster, the model version that scored its newest tick in the time range, and that tick. During a swap a replay shows clusters on either side of it.',
      targets: [
        influx(
          'A',
          `SELECT last("cluster_probability") AS "probability", "model" FROM "anomaly" WHERE ${where} GROUP BY "cluster"`,
          'table',
        ),
      ],
      transformations: [{ id: 'organize', options: { renameByName: { Time: 'newest tick' } } }],
    }),
    barChart({
      ...gridCell(first + 1),
      title: 'Node-ticks scored per model version',
      description:
        'Node-ticks scored per interval, one series per model version: a promotion shows as the step from the old version to the new one, at one tick.',
      targets: [
        influx(
          'A',
          `SELECT count("probability") AS "node-ticks" FROM "anomaly" WHERE ${where} GROUP BY time($__interval), "model" fill(null)`,
          'time_series',
          '$tag_model',
        ),
      ],
      fillOpacity: 50,
      color: { mode: FieldColorModeId.PaletteClassic },
      style: { stacking: { mode: 'normal', group: 'A' } },
    }),
  ];
}
