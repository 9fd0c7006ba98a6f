/** Pieces the three wsn-watch dashboards share: variables, links, time settings. */
import type { Dashboard, DashboardLink, VariableModel } from '@grafana/schema';
import { DEFAULT_ALERT_THRESHOLD } from '../../../common/thresholds.ts';
import { tagVariable } from './panels.ts';

/** Grafana's dashboard schema version these files are written for (Grafana 11/12). */
export const SCHEMA_VERSION = 39;

/**
 * Where the probability colours turn red and the dashed threshold line sits:
 * display only. Which ticks count as anomalous is the detector's `is_anomaly`
 * field, decided with the threshold in force (the model's stored one unless
 * the user set one), so counts and alert rules never use this number.
 */
export const DEFAULT_THRESHOLD = DEFAULT_ALERT_THRESHOLD;

export const UIDS = { overview: 'wsn-overview', node: 'wsn-node', pipeline: 'wsn-pipeline' } as const;

const networkVariable: VariableModel = tagVariable(
  'network',
  'Network',
  'SHOW TAG VALUES FROM "anomaly" WITH KEY = "network"',
);

/** Links between the three dashboards, keeping the network and the time range. */
export const dashboardLinks: DashboardLink[] = [
  {
    title: 'wsn-watch',
    type: 'dashboards' as DashboardLink['type'],
    tags: ['wsn-watch'],
    asDropdown: false,
    includeVars: true,
    keepTime: true,
    icon: 'external link',
    targetBlank: false,
    tooltip: '',
    url: '',
  },
];

/** URL of a node's drill-down, for data links (`${__data.fields.node}` is the clicked row's node). */
export const nodeDrillDownUrl = `/d/${UIDS.node}/node-drill-down?var-network=\${network}&var-node=\${__data.fields.node}&\${__url_time_range}`;

/**
 * A wsn-watch dashboard: every one shows one network, so the network
 * variable comes first; `variables` are the dashboard's own after it.
 */
export function dashboard(
  spec: Pick<Dashboard, 'uid' | 'title' | 'description' | 'panels' | 'annotations'> & { variables?: VariableModel[] },
): Dashboard {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['wsn-watch'],
    editable: true,
    graphTooltip: 1 as Dashboard['graphTooltip'],
    // Event time: replayed data sits in the past, so the default range is wide; live use narrows it.
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'utc',
    refresh: '30s',
    schemaVersion: SCHEMA_VERSION,
    links: dashboardLinks,
    annotations: spec.annotations ?? { list: [] },
    templating: { list: [networkVariable, ...(spec.variables ?? [])] },
    panels: spec.panels,
  };
}
