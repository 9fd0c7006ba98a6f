/** The provisioned dashboards, by file name under dashboards/grafana/dashboards/. */
import type { Dashboard } from '@grafana/schema';
import { networkOverview } from './network-overview.ts';
import { nodeDrillDown } from './node-drilldown.ts';
import { pipelineHealth } from './pipeline-health.ts';

export const DASHBOARDS: Record<string, Dashboard> = {
  'network-overview.json': networkOverview,
  'node-drilldown.json': nodeDrillDown,
  'pipeline-health.json': pipelineHealth,
};

/** The exact text of a dashboard file (stable key order, trailing newline). */
export function renderDashboard(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
