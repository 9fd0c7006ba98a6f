/**
 * Every InfluxQL query of the provisioned dashboards and alert rules, with its
 * template variables substituted as Grafana would, runs against the real
 * InfluxDB holding data written by the detector's InfluxDB sink, and returns
 * the series and columns its panel reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.ts';
import { IngestStatsReporter } from '../../../ingest/stats-reporter.ts';
import { IngestMetrics } from '../../../ingest/metrics.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Dashboard, Panel } from '@grafana/schema';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { loadConfig } from '../../../common/config.ts';
import { writeNodePositions } from '../../../store/node-positions.ts';
import { silencePoint } from '../../../store/silences.ts';
import { feedbackPoint } from '../../../store/feedback.ts';
import { DASHBOARDS } from '../../../dashboards/grafana/build/index.ts';
import { ANOMALOUS_NODE, LAB_TOPOLOGY, NETWORK, T0, TICK_MS, labBatch } from './lab-network.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TICKS = 60;
const ANOMALY_FROM = 50;
const config = loadConfig({ env: process.env });
const database = `wsn_dash_test_${process.pid}_${Date.now()}`;

interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

async function influxql(query: string): Promise<Series[]> {
  const url = new URL('/query', config.influx.url);
  url.searchParams.set('db', database);
  url.searchParams.set('q', query);
  url.searchParams.set('epoch', 'ms');
  const res = await fetch(url);
  const body = (await res.json()) as { error?: string; results?: Array<{ error?: string; series?: Series[] }> };
  const error = body.error ?? body.results?.[0]?.error;
  if (!res.ok || error) throw new Error(`InfluxDB rejected ${query}: ${error ?? res.status}`);
  return body.results?.[0]?.series ?? [];
}

/** Grafana's InfluxDB datasource escapes regex characters of a value used inside /^$var$/. */
const regexEscape = (value: string): string => value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

function substitute(query: string, vars: Record<string, string>): string {
  return query.replace(/\$(\w+)/g, (whole, name: string) => {
    if (name === 'timeFilter') return `time >= ${T0}ms and time <= ${T0 + TICKS * TICK_MS}ms`;
    if (name === '__interval') return '1m';
    if (name in vars) return vars[name];
    return whole;
  });
}

/** Every name a target's result offers to a panel: value columns, tag columns, and its alias. */
function fieldNames(series: Series[], alias: string | undefined): Set<string> {
  const names = new Set<string>();
  for (const s of series) {
    s.columns.forEach((c) => names.add(c));
    Object.keys(s.tags ?? {}).forEach((t) => names.add(t));
  }
  if (alias && !alias.includes('$')) names.add(alias);
  return names;
}

/** Field names a panel refers to: overrides, XY series mappings, join keys, column order. */
function referencedFields(panel: Panel): string[] {
  const names: string[] = [];
  for (const override of panel.fieldConfig?.overrides ?? [])
    if (override.matcher.id === 'byName') names.push(String(override.matcher.options));
  const series = (panel.options?.series ?? []) as Array<Record<string, { matcher?: { id: string; options: string } }>>;
  for (const mapping of series)
    for (const key of ['x', 'y', 'color', 'size']) if (mapping[key]?.matcher) names.push(mapping[key].matcher!.options);
  for (const t of panel.transformations ?? []) {
    const options = t.options as Record<string, unknown>;
    if (t.id === 'joinByField') names.push(String(options.byField));
    if (t.id === 'organize') names.push(...Object.keys((options.indexByName ?? {}) as object));
  }
  return [...new Set(names)];
}

describe('Grafana queries against InfluxDB written by the detector sink', () => {
  const sink = new InfluxSink({ url: config.influx.url, database, retries: 1 });
  const vars: Record<string, string> = { threshold: '0.5' };
  let modalities: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < TICKS; i++) {
      const batch = labBatch(i, ANOMALY_FROM);
      // A model promotion half-way, as the detector tags the points it scores.
      for (const score of batch.scores) score.model = i < TICKS / 2 ? 'v1' : 'v2';
      batch.pipeline = {
        network: NETWORK,
        source: 'detector-0',
        time: T0 + i * TICK_MS,
        frames: 3,
        skippedFrames: i % 20 === 0 ? 1 : 0,
        clusters: 3,
        batchMs: 40 + (i % 7),
        modelMs: 25 + (i % 5),
        framesPerSecond: 70 + (i % 9),
        eventLagMs: 1_500 + 10 * i,
      };
      await sink.write(batch);
    }
    expect(await writeNodePositions(sink, LAB_TOPOLOGY, T0)).toBe(LAB_TOPOLOGY.nodes.length);
    // A maintenance silence as `wsn-watch silence add` writes it, for the silences table.
    await sink.writePoints([
      silencePoint({
        id: 'sil-0000test',
        network: NETWORK,
        node: ANOMALOUS_NODE,
        startsAt: T0,
        endsAt: T0 + 2 * 3_600_000,
        reason: 'battery swap',
        author: 'ana',
        createdAt: T0,
      }),
    ]);
    // A false-alarm mark as `wsn-watch feedback mark` writes it, for the feedback table.
    await sink.writePoints([
      feedbackPoint({
        alertId: `${NETWORK}/c2/${ANOMALOUS_NODE}`,
        network: NETWORK,
        cluster: 'c2',
        node: ANOMALOUS_NODE,
        kind: 'anomaly',
        modality: 'temperature',
        verdict: 'false',
        probability: 0.75,
        alertStartsAt: T0 + ANOMALY_FROM * TICK_MS,
        note: 'door open',
        author: 'ana',
        markedAt: T0 + TICKS * TICK_MS,
      }),
    ]);
    // Ingest statistics through the real writer, every 2 ticks of the same range (clock set to event time).
    const metrics = new IngestMetrics();
    let clock = T0;
    const reporter = new IngestStatsReporter({
      metrics,
      writer: sink,
      network: NETWORK,
      intervalMs: 2 * TICK_MS,
      logger: createLogger('test', 'silent'),
      now: () => clock,
    });
    for (let i = 2; i <= TICKS; i += 2) {
      metrics.accepted.inc(2 * LAB_TOPOLOGY.nodes.length);
      if (i % 10 === 0) metrics.reject(i % 20 === 0 ? 'late' : 'malformed');
      metrics.frames.inc(6);
      metrics.watermark.set((T0 + (i - 2) * TICK_MS) / 1000);
      clock = T0 + i * TICK_MS;
      await reporter.flush();
    }
  });

  afterAll(async () => {
    await sink.dropDatabase();
    await sink.close();
  });

  it('template variable queries list the network, its nodes and the modalities', async () => {
    // As Grafana does: the query's values, then the variable's regex keeps the matches (its first group if it has one).
    const values = async ({ query, regex }: { query: string; regex?: string }) =>
      (await influxql(substitute(query, vars)))
        .flatMap((s) =>
          s.values.map((row) => String(row[s.columns.indexOf(s.columns.includes('value') ? 'value' : 'fieldKey')])),
        )
        .flatMap((value) => {
          if (!regex) return [value];
          const match = new RegExp(regex.replace(/^\/|\/$/g, '')).exec(value);
          return match ? [match[1] ?? match[0]] : [];
        });
    const variables = Object.fromEntries(
      Object.values(DASHBOARDS)
        .flatMap((d) => d.templating?.list ?? [])
        .map((v) => [v.name, { query: String(v.query), regex: v.regex ? String(v.regex) : undefined }]),
    );
    expect(await values(variables.network)).toEqual([NETWORK]);
    vars.network = regexEscape(NETWORK);
    expect((await values(variables.node)).sort((a, b) => Number(a) - Number(b))).toEqual(
      LAB_TOPOLOGY.nodes.map((n) => n.node),
    );
    vars.node = regexEscape(ANOMALOUS_NODE);
    modalities = await values(variables.modality);
    expect(modalities).toEqual(['humidity', 'light', 'temperature', 'voltage']);
  });

  for (const [file, dashboard] of Object.entries(DASHBOARDS) as Array<[string, Dashboard]>) {
    for (const panel of (dashboard.panels ?? []) as Panel[]) {
      const targets = panel.targets ?? [];
      if (targets.length === 0) continue;
      it(`${file}: "${panel.title}" returns the series and fields the panel reads`, async () => {
        // A repeated panel runs once per value of its variable.
        const repeats = panel.repeat ? modalities.map((m) => ({ ...vars, [panel.repeat!]: m })) : [vars];
        expect(repeats.length).toBeGreaterThan(0);
        for (const scope of repeats) {
          const available = new Set<string>();
          for (const target of targets) {
            const query = substitute(String(target.query), scope);
            const series = await influxql(query);
            expect(series.length, query).toBeGreaterThan(0);
            for (const s of series) {
              expect(s.columns[0], query).toBe('time');
              // Every series carries at least one real value (not just empty time buckets).
              expect(
                s.values.some((row) => row.slice(1).some((v) => v !== null)),
                query,
              ).toBe(true);
            }
            fieldNames(series, target.alias as string | undefined).forEach((n) => available.add(n));
          }
          for (const name of referencedFields(panel))
            expect(available.has(name), `${panel.title}: field ${name} (have ${[...available].join(', ')})`).toBe(true);
        }
      });
    }
    for (const annotation of dashboard.annotations?.list ?? []) {
      it(`${file}: annotation "${annotation.name}" marks the anomalous ticks`, async () => {
        const series = await influxql(
          substitute(String((annotation.target as unknown as { query: string }).query), vars),
        );
        expect(series).toHaveLength(1);
        const times = series[0].values.map((row) => row[0] as number);
        expect(times.length).toBeGreaterThan(0);
        expect(Math.min(...times)).toBeGreaterThanOrEqual(T0 + ANOMALY_FROM * TICK_MS);
      });
    }
  }

  it('the network map has a position for every scored node, and the anomalous node is the hottest', async () => {
    const map = (DASHBOARDS['network-overview.json'].panels as Panel[]).find((p) => p.type === 'xychart')!;
    const [positions, scores] = await Promise.all(map.targets!.map((t) => influxql(substitute(String(t.query), vars))));
    const placed = new Set(positions.map((s) => s.tags!.node));
    const scored = scores.map((s) => ({
      node: s.tags!.node,
      probability: s.values[0][s.columns.indexOf('probability')] as number,
    }));
    expect(scored).toHaveLength(LAB_TOPOLOGY.nodes.length);
    for (const { node } of scored) expect(placed.has(node)).toBe(true);
    expect(scored.reduce((a, b) => (b.probability > a.probability ? b : a)).node).toBe(ANOMALOUS_NODE);
  });

  it('alert rule queries run, and only the anomalous node and its cluster cross their thresholds', async () => {
    const rules = (
      parse(await readFile(path.join(repoRoot, 'dashboards/grafana/provisioning/alerting/wsn-rules.yml'), 'utf8')) as {
        groups: Array<{
          rules: Array<{
            uid: string;
            data: Array<{
              refId: string;
              datasourceUid: string;
              model: { query?: string; conditions?: Array<{ evaluator: { params: number[] } }> };
            }>;
          }>;
        }>;
      }
    ).groups.flatMap((g) => g.rules);
    const firing: Record<string, string[]> = {};
    for (const rule of rules) {
      const query = rule.data.find((d) => d.datasourceUid === 'wsn-influxdb')!.model.query!;
      const threshold = rule.data.find((d) => d.model.conditions)!.model.conditions![0].evaluator.params[0];
      const series = await influxql(substitute(query, {}));
      expect(series.length, rule.uid).toBeGreaterThan(0);
      firing[rule.uid] = series
        .filter((s) => (s.values.at(-1)![1] as number) > threshold)
        .map((s) => s.tags!.node ?? s.tags!.cluster ?? s.tags!.source ?? s.tags!.network);
    }
    expect(firing).toEqual({
      'wsn-node-anomaly': [ANOMALOUS_NODE],
      'wsn-cluster-anomaly': ['c2'],
      'wsn-detector-lag': [],
      'wsn-ingest-dlq-rate': [],
    });
  });
});
