import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What a metric may add to its name and help: labels, and a histogram's buckets. */
export interface MetricExtras<L extends string> {
  labelNames?: readonly L[];
  buckets?: number[];
}

/**
 * Makes the Prometheus metrics of one service on its registry, one line each,
 * so a service's metrics file lists names and meanings rather than option
 * objects.
 */
export function metricsOn(registry: Registry) {
  return {
    counter: <L extends string = never>(name: string, help: string, extras: MetricExtras<L> = {}) =>
      new Counter<L>({ name, help, labelNames: extras.labelNames ?? [], registers: [registry] }),
    gauge: <L extends string = never>(name: string, help: string, extras: MetricExtras<L> = {}) =>
      new Gauge<L>({ name, help, labelNames: extras.labelNames ?? [], registers: [registry] }),
    histogram: <L extends string = never>(name: string, help: string, extras: MetricExtras<L> = {}) =>
      new Histogram<L>({
        name,
        help,
        labelNames: extras.labelNames ?? [],
        ...(extras.buckets ? { buckets: extras.buckets } : {}),
        registers: [registry],
      }),
  };
}
