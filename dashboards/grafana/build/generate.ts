/**
 * Writes the dashboard JSON files and the alert rules from their TypeScript sources:
 *   npx tsx dashboards/grafana/build/generate.ts
 * The JSON files are committed (Grafana reads them); a unit test fails when
 * they drift from the sources.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { DASHBOARDS, renderDashboard } from './index.ts';
import { renderAlertRules } from './alert-rules.ts';

export const DASHBOARD_DIR = fileURLToPath(new URL('../dashboards/', import.meta.url));
export const ALERT_RULES_FILE = fileURLToPath(new URL('../provisioning/alerting/wsn-rules.yml', import.meta.url));

async function main(): Promise<void> {
  await mkdir(DASHBOARD_DIR, { recursive: true });
  for (const [file, dashboard] of Object.entries(DASHBOARDS)) {
    await writeFile(path.join(DASHBOARD_DIR, file), renderDashboard(dashboard));
    process.stderr.write(`wrote dashboards/grafana/dashboards/${file} (${dashboard.panels?.length ?? 0} panels)\n`);
  }
  await writeFile(ALERT_RULES_FILE, renderAlertRules());
  process.stderr.write('wrote dashboards/grafana/provisioning/alerting/wsn-rules.yml\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
