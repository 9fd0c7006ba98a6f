/**
 * The Grafana-managed alert rules, written to
 * provisioning/alerting/wsn-rules.yml by generate.ts (a unit test fails when
 * the committed file drifts from this source). The node rule reads the
 * detector's own verdict (is_anomaly), so it follows the threshold the
 * detector runs with; the other limits are named here, once.
 */
import { stringify } from 'yaml';
import { INFLUX } from './panels.ts';
import { UIDS } from './common.ts';

/** System probability above which a whole cluster counts as anomalous. */
export const CLUSTER_ALERT_PROBABILITY = 0.8;
/** How far behind event time a detector may run before it is reported, ms (ten IBRL ticks). */
export const DETECTOR_LAG_ALERT_MS = 300_000;
/** Share of ingest's messages sent to the DLQ that is reported. */
export const DLQ_SHARE_ALERT = 0.05;
/** Rules look at the last ten minutes of wall-clock time. */
const WINDOW_S = 600;

interface RuleSpec {
  uid: string;
  title: string;
  query: string;
  /** The condition fires when the last value is above this. */
  above: number;
  for: string;
  severity: 'warning' | 'critical';
  summary: string;
  description: string;
  dashboard: string;
}

const RULES: RuleSpec[] = [
  {
    uid: 'wsn-node-anomaly',
    title: "Node anomalous (above the detector's threshold)",
    // Only ticks the detector itself judged anomalous: the threshold in force is the detector's.
    query: `SELECT max("probability") FROM "anomaly" WHERE "is_anomaly" = true AND $timeFilter GROUP BY "network", "cluster", "node"`,
    above: 0,
    for: '1m',
    severity: 'warning',
    summary: 'Node {{ $labels.node }} of {{ $labels.network }}/{{ $labels.cluster }} looks anomalous',
    description:
      'Highest anomaly probability of its anomalous ticks in the last 10 minutes: {{ $values.B.Value | printf "%.2f" }}.',
    dashboard: UIDS.node,
  },
  {
    uid: 'wsn-cluster-anomaly',
    title: 'Cluster system probability high',
    query: `SELECT max("cluster_probability") FROM "anomaly" WHERE $timeFilter GROUP BY "network", "cluster"`,
    above: CLUSTER_ALERT_PROBABILITY,
    for: '2m',
    severity: 'critical',
    summary: 'Cluster {{ $labels.cluster }} of {{ $labels.network }} is probably anomalous',
    description: 'System probability {{ $values.B.Value | printf "%.2f" }} over the last 10 minutes.',
    dashboard: UIDS.overview,
  },
  {
    uid: 'wsn-detector-lag',
    title: 'Detector falls behind event time',
    query: `SELECT max("event_lag_ms") FROM "pipeline" WHERE $timeFilter GROUP BY "network", "source"`,
    above: DETECTOR_LAG_ALERT_MS,
    for: '5m',
    severity: 'warning',
    summary: 'Detector {{ $labels.source }} runs {{ $values.B.Value | printf "%.0f" }} ms behind event time',
    description: 'Batches take longer than the ticks arrive; add detector replicas or check the model backend.',
    dashboard: UIDS.pipeline,
  },
  {
    uid: 'wsn-ingest-dlq-rate',
    title: 'Ingest rejects many messages',
    query: `SELECT sum("rejected") / (sum("accepted") + sum("rejected")) FROM "pipeline" WHERE "source" = 'ingest' AND $timeFilter GROUP BY "network"`,
    above: DLQ_SHARE_ALERT,
    for: '5m',
    severity: 'warning',
    summary:
      'Ingest of {{ $labels.network }} sends {{ $values.B.Value | humanizePercentage }} of its messages to the DLQ',
    description:
      'Read the reasons in the x-wsn-error headers of wsn.readings.dlq (malformed, unknown node, late, ...).',
    dashboard: UIDS.pipeline,
  },
];

/** One rule: query (A), last value (B), above the limit (C). */
function rule(spec: RuleSpec): Record<string, unknown> {
  return {
    uid: spec.uid,
    title: spec.title,
    condition: 'C',
    data: [
      {
        refId: 'A',
        relativeTimeRange: { from: WINDOW_S, to: 0 },
        datasourceUid: INFLUX.uid,
        model: { refId: 'A', rawQuery: true, resultFormat: 'time_series', query: spec.query },
      },
      {
        refId: 'B',
        datasourceUid: '__expr__',
        model: { refId: 'B', type: 'reduce', expression: 'A', reducer: 'last', settings: { mode: 'dropNN' } },
      },
      {
        refId: 'C',
        datasourceUid: '__expr__',
        model: {
          refId: 'C',
          type: 'threshold',
          expression: 'B',
          conditions: [{ evaluator: { type: 'gt', params: [spec.above] } }],
        },
      },
    ],
    for: spec.for,
    noDataState: 'OK',
    execErrState: 'Error',
    labels: { severity: spec.severity, service: 'wsn-watch' },
    annotations: { summary: spec.summary, description: spec.description, __dashboardUid__: spec.dashboard },
    isPaused: false,
  };
}

const HEADER = `# Generated from dashboards/grafana/build/alert-rules.ts (npx tsx dashboards/grafana/build/generate.ts); do not edit.
# Grafana-managed alert rules over the detector's results. They evaluate
# against wall-clock time (the last 10 minutes), so they fire for live data,
# not for replays of old event time. The detector itself routes its per-node
# alerts to Alertmanager and webhooks; these rules are the Grafana-side view
# (the "Active alerts" panel of the overview) and a check on the detector.
`;

/** The provisioning file's text. */
export function renderAlertRules(): string {
  const document = {
    apiVersion: 1,
    groups: [{ orgId: 1, name: 'wsn-watch', folder: 'wsn-watch', interval: '1m', rules: RULES.map(rule) }],
  };
  return HEADER + stringify(document, { lineWidth: 0 });
}
