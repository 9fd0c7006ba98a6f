/**
 * Pipeline health, from the `pipeline` measurement the detector writes per
 * batch (tags network, source) and the `value_<modality>` fields of the `anomaly` points.
 */
import { FieldColorModeId, type Dashboard, type FieldColor, type Panel } from '@grafana/schema';
import { barChart, influx, panel, tagIs, timeSeriesOptions, type PanelSpec } from './panels.ts';
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
      id: 1,
      title: 'Readings stored per interval',
      description: 'Aligned readings written to InfluxDB per interval of event time, one series per modality.',
      box: { x: 0, y: 0, w: 12, h: 8 },
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
      id: 2,
      title: 'Detector throughput',
      description: 'Frames scored per second of wall time, per detector replica (tag source).',
      box: { x: 12, y: 0, w: 12, h: 8 },
      targets: [perReplica('mean("frames_per_s")')],
      unit: 'short',
    }),
    lineChart({
      id: 3,
      title: 'Detector latency',
      description: 'Wall time of a batch (decode, model, sinks) and of the model call alone.',
      box: { x: 0, y: 8, w: 12, h: 8 },
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
      id: 4,
      title: 'Event-time lag',
      description:
        'Wall clock minus the newest tick of each batch: how far behind the sensors the detector runs. Large for replays of old data, by design.',
      box: { x: 12, y: 8, w: 12, h: 8 },
      targets: [perReplica('max("event_lag_ms")')],
      unit: 'ms',
    }),
    barChart({
      id: 5,
      title: 'Frames scored and skipped',
      description:
        'Skipped frames were already scored (tick at or before the checkpoint), e.g. redelivered after a rebalance.',
      box: { x: 0, y: 16, w: 12, h: 8 },
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
      id: 6,
      title: 'Ingest: DLQ rate',
      description:
        'Messages sent to wsn.readings.dlq per second of wall time (late ones among them), from the pipeline points ingest writes (source = ingest).',
      box: { x: 12, y: 16, w: 12, h: 8 },
      targets: [influx('A', ingestRates({ rejected: 'rejected/s', late: 'late/s' }), 'time_series', '$col')],
      unit: 'short',
      color: { mode: FieldColorModeId.Fixed, fixedColor: 'red' },
    }),
    lineChart({
      id: 7,
      title: 'Ingest rate',
      description:
        'Readings accepted and frames published per second of wall time, from the pipeline points ingest writes (source = ingest).',
      box: { x: 0, y: 24, w: 12, h: 8 },
      targets: [
        influx('A', ingestRates({ accepted: 'readings/s', frames_published: 'frames/s' }), 'time_series', '$col'),
      ],
      unit: 'short',
    }),
    lineChart({
      id: 8,
      title: 'Ingest watermark lag',
      description:
        'Wall clock minus the event-time watermark of ingest: how far behind the sensors frames are emitted (the allowed lateness at least). Large for replays of old data, by design.',
      box: { x: 12, y: 24, w: 12, h: 8 },
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
    ...modelVersionPanels(9, 32),
  ],
});

/**
 * The model version in use (`wsn-watch model promote`): the version tag of
 * the scored `anomaly` points, per cluster for the newest tick, and node-ticks
 * scored per version over time, where a swap shows as the step from one to the other.
 */
function modelVersionPanels(id: number, y: number): Panel[] {
  return [
    panel({
      id,
      type: 'table',
      title: 'Model version in use',
      description:
        'Per cluster, the model version that scored its newest tick in the time range, and that tick. During a swap a replay shows clusters on either side of it.',
      box: { x: 0, y, w: 12, h: 8 },
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
      id: id + 1,
      title: 'Node-ticks scored per model version',
      description:
        'Node-ticks scored per interval, one series per model version: a promotion shows as the step from the old version to the new one, at one tick.',
      box: { x: 12, y, w: 12, h: 8 },
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
