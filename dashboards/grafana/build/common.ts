/** Pieces the three wsn-watch dashboards share: variables, links, time settings. */
import type { Dashboard, DashboardLink, VariableModel } from '@grafana/schema';
import { tagVariable } from './panels.ts';

/** Grafana's dashboard schema version these files are written for (Grafana 11/12). */
export const SCHEMA_VERSION = 39;

/** Default alert threshold, the same as config detector.threshold. */
export const DEFAULT_THRESHOLD = 0.5;

export const UIDS = { overview: 'wsn-overview', node: 'wsn-node', pipeline: 'wsn-pipeline' } as const;

export const networkVariable: VariableModel = tagVariable('network', 'Network', 'SHOW TAG VALUES FROM "anomaly" WITH KEY = "network"');

/** Editable in the dashboard; queries compare probabilities with it. */
export const thresholdVariable: VariableModel = {
  name: 'threshold',
  label: 'Threshold',
  type: 'textbox',
  query: String(DEFAULT_THRESHOLD),
  current: { text: String(DEFAULT_THRESHOLD), value: String(DEFAULT_THRESHOLD) },
  hide: 0,
} as VariableModel;

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

export function dashboard(spec: Pick<Dashboard, 'uid' | 'title' | 'description' | 'panels' | 'templating' | 'annotations'>): Dashboard {
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
    templating: spec.templating,
    panels: spec.panels,
  };
}
