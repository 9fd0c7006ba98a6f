/**
 * Small builders for Grafana dashboard JSON, typed with Grafana's published
 * schema (@grafana/schema), so a wrong key fails `tsc` before Grafana ever
 * sees the file. Every query is raw InfluxQL against the provisioned
 * InfluxDB datasource.
 */
import {
  GraphDrawStyle,
  LegendDisplayMode,
  SortOrder,
  ThresholdsMode,
  TooltipDisplayMode,
  type DataSourceRef,
  type FieldColor,
  type FieldConfigSource,
  type Panel,
  type ThresholdsConfig,
  type VariableModel,
} from '@grafana/schema';
import type { Options as TimeSeriesOptions } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/** The provisioned datasource (provisioning/datasources/influxdb.yml); its uid is fixed so dashboards can name it. */
export const INFLUX: DataSourceRef = { type: 'influxdb', uid: 'wsn-influxdb' };

/** Tag filter matching a single-value template variable, as Grafana's InfluxDB datasource expects (regex-escaped value). */
export const tagIs = (tag: string, variable: string): string => `"${tag}" =~ /^$${variable}$/`;

export type ResultFormat = 'time_series' | 'table';

export interface InfluxTarget extends Record<string, unknown> {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: ResultFormat;
  alias?: string;
}

export function influx(
  refId: string,
  query: string,
  resultFormat: ResultFormat = 'time_series',
  alias?: string,
): InfluxTarget {
  return { refId, datasource: INFLUX, query, rawQuery: true, resultFormat, ...(alias ? { alias } : {}) };
}

/** Grafana's 24-column grid. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PanelSpec {
  id: number;
  type: string;
  title: string;
  description?: string;
  box: Box;
  targets?: InfluxTarget[];
  /** Plugin options; callers type them with the plugin's Options type from @grafana/schema. */
  options?: object;
  fieldConfig?: FieldConfigSource;
  transformations?: Panel['transformations'];
  repeat?: string;
  links?: Panel['links'];
  interval?: string;
}

export function panel(spec: PanelSpec): Panel {
  return {
    id: spec.id,
    type: spec.type,
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    gridPos: { x: spec.box.x, y: spec.box.y, w: spec.box.w, h: spec.box.h },
    datasource: INFLUX,
    targets: spec.targets ?? [],
    options: (spec.options ?? {}) as Record<string, unknown>,
    fieldConfig: spec.fieldConfig ?? { defaults: {}, overrides: [] },
    ...(spec.transformations ? { transformations: spec.transformations } : {}),
    ...(spec.repeat ? { repeat: spec.repeat, repeatDirection: 'h' as const, maxPerRow: 2 } : {}),
    ...(spec.links ? { links: spec.links } : {}),
    ...(spec.interval ? { interval: spec.interval } : {}),
  };
}

export const timeSeriesOptions = (placement: 'right' | 'bottom', showLegend = true): Partial<TimeSeriesOptions> => ({
  legend: { showLegend, displayMode: LegendDisplayMode.List, placement, calcs: [] },
  tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
});

/** Counts per interval as bars, in whole numbers, the legend (if shown) below. */
export function barChart(
  spec: Omit<PanelSpec, 'type' | 'options' | 'fieldConfig'> & {
    fillOpacity: number;
    color?: FieldColor;
    /** More of the bars' style (stacking, line width). */
    style?: Record<string, unknown>;
    overrides?: FieldConfigSource['overrides'];
    showLegend?: boolean;
  },
): Panel {
  const { fillOpacity, color, style, overrides, showLegend, ...rest } = spec;
  return panel({
    ...rest,
    type: 'timeseries',
    options: timeSeriesOptions('bottom', showLegend),
    fieldConfig: {
      defaults: {
        decimals: 0,
        ...(color ? { color } : {}),
        custom: { drawStyle: GraphDrawStyle.Bars, fillOpacity, ...style },
      },
      overrides: overrides ?? [],
    },
  });
}

/** Probability colours: green, amber from 0.3, red from the alert threshold. */
export function probabilityThresholds(threshold: number): ThresholdsConfig {
  return {
    mode: ThresholdsMode.Absolute,
    steps: [
      { color: 'green', value: null },
      { color: 'orange', value: Math.min(0.3, threshold) },
      { color: 'red', value: threshold },
    ],
  };
}

/** Green at 0, red from 1: for counts of bad things. */
export function alarmThresholds(): ThresholdsConfig {
  return {
    mode: ThresholdsMode.Absolute,
    steps: [
      { color: 'green', value: null },
      { color: 'red', value: 1 },
    ],
  };
}

/** A query variable over tag values of a measurement. */
export function tagVariable(name: string, label: string, query: string): VariableModel {
  return {
    name,
    label,
    type: 'query',
    datasource: INFLUX,
    query,
    refresh: 1,
    sort: 3,
    includeAll: false,
    multi: false,
    hide: 0,
  } as VariableModel;
}
