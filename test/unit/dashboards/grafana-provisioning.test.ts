import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Dashboard, Panel } from '@grafana/schema';
import { DASHBOARDS, renderDashboard } from '../../../dashboards/grafana/build/index.ts';
import { INFLUX } from '../../../dashboards/grafana/build/panels.ts';
import { renderAlertRules } from '../../../dashboards/grafana/build/alert-rules.ts';
import { typecheckDashboards } from './grafana-typecheck.ts';
import { ENV_VARS } from '../../../common/config.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const grafanaDir = path.join(repoRoot, 'dashboards/grafana');

async function committedDashboards(): Promise<Record<string, string>> {
  const dir = path.join(grafanaDir, 'dashboards');
  const out: Record<string, string> = {};
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort())
    out[file] = await readFile(path.join(dir, file), 'utf8');
  return out;
}

const panelsOf = (dashboard: Dashboard): Panel[] => (dashboard.panels ?? []) as Panel[];
const queriesOf = (p: Panel): string[] => (p.targets ?? []).map((t) => String(t.query));

/** Grafana's own variables and InfluxDB alias patterns, which need no template variable. */
const BUILTIN = new Set(['timeFilter', '__interval', '__interval_ms', '__timeFilter', 'col', '__all']);

describe('Grafana dashboards', () => {
  it('are committed exactly as generated from dashboards/grafana/build', async () => {
    const files = await committedDashboards();
    expect(Object.keys(files)).toEqual(Object.keys(DASHBOARDS).sort());
    for (const [file, dashboard] of Object.entries(DASHBOARDS)) {
      expect(files[file], `${file} is stale: run npx tsx dashboards/grafana/build/generate.ts`).toBe(
        renderDashboard(dashboard),
      );
    }
  });

  it('alert rules are committed exactly as generated from dashboards/grafana/build/alert-rules.ts', async () => {
    const committed = await readFile(path.join(grafanaDir, 'provisioning/alerting/wsn-rules.yml'), 'utf8');
    expect(committed, 'wsn-rules.yml is stale: run npx tsx dashboards/grafana/build/generate.ts').toBe(
      renderAlertRules(),
    );
  });

  it("type-check against @grafana/schema's Dashboard", async () => {
    const problems = typecheckDashboards(repoRoot, await committedDashboards());
    expect(problems).toEqual([]);
  });

  it('the schema check rejects malformed dashboards and panel options, naming the panel', () => {
    const broken = {
      'wrong-type.json': JSON.stringify({
        title: 'x',
        schemaVersion: 39,
        panels: [{ type: 'stat', gridPos: { x: 'left', y: 0, w: 4, h: 4 } }],
      }),
      'unknown-key.json': JSON.stringify({ title: 'x', schemaVersion: 39, refreshEvery: '5s' }),
      'no-version.json': JSON.stringify({ title: 'x' }),
      'bad-options.json': JSON.stringify({
        title: 'x',
        schemaVersion: 39,
        panels: [
          { type: 'stat', title: 'S', options: { colorMode: 'rainbow' } },
          {
            type: 'timeseries',
            title: 'T',
            fieldConfig: { defaults: { custom: { lineWidth: 'thick' } }, overrides: [] },
          },
          { type: 'alertlist', title: 'A', options: { anything: true } },
        ],
      }),
    };
    const problems = typecheckDashboards(repoRoot, broken);
    expect(problems.map((p) => p.file).sort()).toEqual([
      'bad-options.json panel "S" options',
      'bad-options.json panel "T" fieldConfig.defaults.custom',
      'no-version.json',
      'unknown-key.json',
      'wrong-type.json',
    ]);
    expect(problems.find((p) => p.file === 'unknown-key.json')?.message).toContain('refreshEvery');
    expect(problems.find((p) => p.file.endsWith('"S" options'))?.message).toContain('"rainbow"');
  });

  it('have unique uids and panel ids, fit the 24-column grid and query only the provisioned datasource', () => {
    const uids = Object.values(DASHBOARDS).map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const dashboard of Object.values(DASHBOARDS)) {
      const ids = panelsOf(dashboard).map((p) => p.id);
      expect(new Set(ids).size, dashboard.uid ?? '').toBe(ids.length);
      for (const p of panelsOf(dashboard)) {
        expect(p.gridPos!.x + p.gridPos!.w, `${dashboard.uid} panel ${p.title}`).toBeLessThanOrEqual(24);
        for (const target of p.targets ?? []) expect(target.datasource).toEqual(INFLUX);
      }
    }
  });

  it('use only template variables they define', () => {
    for (const dashboard of Object.values(DASHBOARDS)) {
      const defined = new Set((dashboard.templating?.list ?? []).map((v) => v.name));
      const texts = [
        ...panelsOf(dashboard).flatMap((p) => [...queriesOf(p), p.title ?? '', ...(p.repeat ? [`$${p.repeat}`] : [])]),
        ...(dashboard.templating?.list ?? []).map((v) => String(v.query ?? '')),
        ...(dashboard.annotations?.list ?? []).map((a) =>
          String((a.target as { query?: string } | undefined)?.query ?? ''),
        ),
      ];
      for (const text of texts) {
        for (const [, name] of text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
          if (BUILTIN.has(name) || name.startsWith('tag_')) continue;
          expect(defined.has(name), `${dashboard.uid}: $${name} in "${text}"`).toBe(true);
        }
      }
    }
  });
});

describe('Grafana provisioning', () => {
  const load = async (relative: string) =>
    parse(await readFile(path.join(grafanaDir, 'provisioning', relative), 'utf8')) as Record<string, unknown>;

  it('provisions the InfluxDB datasource the dashboards name, database and URL from the environment', async () => {
    const config = (await load('datasources/influxdb.yml')) as {
      datasources: Array<Record<string, unknown> & { jsonData: Record<string, unknown> }>;
    };
    expect(config.datasources).toHaveLength(1);
    const [source] = config.datasources;
    expect(source).toMatchObject({ uid: INFLUX.uid, type: 'influxdb', url: '${WSN_INFLUX_URL}' });
    expect(source.jsonData).toMatchObject({ version: 'InfluxQL', dbName: '${WSN_INFLUX_DATABASE}' });
    // The same variables configure wsn-watch itself, so one environment serves both.
    expect(ENV_VARS.WSN_INFLUX_URL).toBe('influx.url');
    expect(ENV_VARS.WSN_INFLUX_DATABASE).toBe('influx.database');
  });

  it('loads the dashboards from the mounted directory', async () => {
    const config = (await load('dashboards/wsn.yml')) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    expect(config.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }),
      }),
    ]);
  });

  it('alert rules are well-formed: known datasources, existing condition refIds, links to existing dashboards', async () => {
    const config = (await load('alerting/wsn-rules.yml')) as {
      groups: Array<{
        rules: Array<{
          uid: string;
          condition: string;
          data: Array<{ refId: string; datasourceUid: string; model: { query?: string } }>;
          annotations: Record<string, string>;
        }>;
      }>;
    };
    const rules = config.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.uid)).toEqual([
      'wsn-node-anomaly',
      'wsn-cluster-anomaly',
      'wsn-detector-lag',
      'wsn-ingest-dlq-rate',
    ]);
    const dashboardUids = new Set(Object.values(DASHBOARDS).map((d) => d.uid));
    for (const rule of rules) {
      expect(rule.data.map((d) => d.refId)).toContain(rule.condition);
      for (const step of rule.data) expect([INFLUX.uid, '__expr__']).toContain(step.datasourceUid);
      expect(
        rule.data.filter((d) => d.datasourceUid === INFLUX.uid).every((d) => d.model.query?.includes('$timeFilter')),
      ).toBe(true);
      expect(dashboardUids.has(rule.annotations.__dashboardUid__)).toBe(true);
    }
  });

  it("judge anomalous nodes by the detector's is_anomaly (its threshold in force), never by a probability threshold of their own", async () => {
    const config = (await load('alerting/wsn-rules.yml')) as {
      groups: Array<{
        rules: Array<{
          uid: string;
          data: Array<{ model: { query?: string; conditions?: Array<{ evaluator: { params: number[] } }> } }>;
        }>;
      }>;
    };
    const node = config.groups.flatMap((g) => g.rules).find((r) => r.uid === 'wsn-node-anomaly')!;
    expect(node.data[0].model.query).toContain('"is_anomaly" = true');
    expect(node.data.flatMap((d) => d.model.conditions ?? []).map((c) => c.evaluator.params[0])).toEqual([0]);
    const queries = Object.values(DASHBOARDS).flatMap((d) => panelsOf(d).flatMap(queriesOf));
    expect(queries.filter((q) => /"probability"\s*[><]=?\s*[\d$]/.test(q))).toEqual([]);
    expect(queries.some((q) => q.includes('"is_anomaly" = true'))).toBe(true);
  });
});
