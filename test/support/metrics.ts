/**
 * Reading prom-client counters and histograms in tests: the one place that knows how their values are laid out
 * (a value per label set; a histogram's `_bucket`, `_sum` and `_count` values told apart by `metricName`).
 */

/** What tests read of a prom-client metric (Counter, Gauge, Histogram). */
export interface ReadableMetric {
  get(): Promise<{
    values: Array<{ value: number; labels: Partial<Record<string, string | number>>; metricName?: string }>;
  }>;
}

type Labels = Record<string, string | number>;

const hasLabels = (labels: Partial<Record<string, string | number>>, wanted: Labels): boolean =>
  Object.entries(wanted).every(([name, value]) => labels[name] === value);

/** The sum of a counter's (or gauge's) values whose labels include `labels` (all of them without). */
export async function countOf(metric: ReadableMetric, labels: Labels = {}): Promise<number> {
  return (await metric.get()).values.filter((v) => hasLabels(v.labels, labels)).reduce((n, v) => n + v.value, 0);
}

/** A histogram's observation count and sum, over its values whose labels include `labels`. */
export async function histogramOf(
  metric: ReadableMetric,
  labels: Labels = {},
): Promise<{ count: number; sum: number }> {
  const values = (await metric.get()).values.filter((v) => hasLabels(v.labels, labels));
  const total = (suffix: string): number =>
    values.filter((v) => v.metricName?.endsWith(suffix)).reduce((n, v) => n + v.value, 0);
  return { count: total('_count'), sum: total('_sum') };
}

/** A histogram's observations of at most `le` (its cumulative bucket), over its values whose labels include `labels`. */
export async function bucketOf(metric: ReadableMetric, le: number, labels: Labels = {}): Promise<number> {
  return (await metric.get()).values
    .filter((v) => v.metricName?.endsWith('_bucket') && v.labels.le === le && hasLabels(v.labels, labels))
    .reduce((n, v) => n + v.value, 0);
}
