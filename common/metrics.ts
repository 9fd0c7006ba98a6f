import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A service's Prometheus metrics are declared as a table: one row per
 * metric, under the property name the code uses, holding the metric's kind,
 * name (after the service's prefix), help, labels and buckets. So a
 * service's metrics file lists names and meanings rather than option
 * objects, and every service makes its metrics the same way.
 */
export interface MetricRow<Kind extends 'counter' | 'gauge' | 'histogram', L extends string> {
  kind: Kind;
  /** The metric's name after the service's prefix, e.g. `frames_total`. */
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Histograms only; default: prom-client's. */
  buckets?: number[];
}

/** A row of a metric table, of any kind. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows differ in their label names
export type AnyMetricRow = MetricRow<'counter' | 'gauge' | 'histogram', any>;

/** A counter row: `name` after the prefix, `help`, label names if any. */
export const counter = <L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): MetricRow<'counter', L> => ({ kind: 'counter', name, help, labelNames });

/** A gauge row: `name` after the prefix, `help`, label names if any. */
export const gauge = <L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): MetricRow<'gauge', L> => ({ kind: 'gauge', name, help, labelNames });

/** A histogram row: `name` after the prefix, `help`, its buckets and label names if any. */
export const histogram = <L extends string = never>(
  name: string,
  help: string,
  options: { buckets?: number[]; labelNames?: readonly L[] } = {},
): MetricRow<'histogram', L> => ({
  kind: 'histogram',
  name,
  help,
  labelNames: options.labelNames ?? [],
  buckets: options.buckets,
});

/** The prom-client metric a row makes. */
export type MetricOf<R> =
  R extends MetricRow<'counter', infer L>
    ? Counter<L>
    : R extends MetricRow<'gauge', infer L>
      ? Gauge<L>
      : R extends MetricRow<'histogram', infer L>
        ? Histogram<L>
        : never;

/** The metrics a table makes, under the table's property names. */
export type MetricsOf<T extends Record<string, AnyMetricRow>> = { readonly [K in keyof T]: MetricOf<T[K]> };

function makeMetric(prefix: string, row: AnyMetricRow, registry: Registry) {
  const options = { name: prefix + row.name, help: row.help, labelNames: row.labelNames, registers: [registry] };
  if (row.kind === 'counter') return new Counter(options);
  if (row.kind === 'gauge') return new Gauge(options);
  return new Histogram({ ...options, ...(row.buckets ? { buckets: row.buckets } : {}) });
}

/** Makes every metric of `table` on `registry`, each named `prefix` + its row's name. */
export function declareMetrics<T extends Record<string, AnyMetricRow>>(
  registry: Registry,
  prefix: string,
  table: T,
): MetricsOf<T> {
  const entries = Object.entries(table).map(([key, row]) => [key, makeMetric(prefix, row, registry)]);
  return Object.fromEntries(entries) as MetricsOf<T>;
}

/**
 * The base class of a service's metrics: a registry of its own (one per
 * service instance, so tests and embedded runs do not collide) holding the
 * table's metrics as properties, and Node's default metrics under the same
 * prefix when asked for.
 */
export function metricsClass<T extends Record<string, AnyMetricRow>>(prefix: string, table: T) {
  class ServiceMetrics {
    readonly registry = new Registry();

    constructor(options: { defaultMetrics?: boolean } = {}) {
      Object.assign(this, declareMetrics(this.registry, prefix, table));
      if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix });
    }
  }
  return ServiceMetrics as new (options?: { defaultMetrics?: boolean }) => ServiceMetrics & MetricsOf<T>;
}
