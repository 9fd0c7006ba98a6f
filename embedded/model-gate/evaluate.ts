/**
 * The live-path half of `wsn-watch model compare`: the period's stored
 * readings (InfluxDB `anomaly`, unmasked) replayed through the live path
 * (embedded/live-eval: backtest with faults of the fault catalogue injected)
 * once per model, with the same seed, so both face the same faults. Kept
 * small: one injected run of a few faults per kind.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../../common/config.ts';
import type { Logger } from '../../common/log.ts';
import type { Reading } from '../../common/types.ts';
import { escape } from 'influx';
import type { EvaluationScore } from '../../detector/registry/gate.ts';
import type { Detector } from '../../model/index.ts';
import { readNodeTicks, storedNodes, type InfluxRows } from '../../store/influx-history.ts';
import { NODE_POSITION_MEASUREMENT } from '../../store/node-positions.ts';
import { createTopology, type SensorNode } from '../../topology/index.ts';
import { spread, wellReporting, type LiveDataset } from '../live-eval/datasets.ts';
import { runLiveEvaluation } from '../live-eval/run.ts';
import { HOUR_MS } from '../../common/constants.ts';

export interface GateEvaluationOptions {
  config: Config;
  rows: InfluxRows;
  from: number;
  until: number;
  models: Array<{ version: string; model: Detector }>;
  seed: number;
  perKind: number;
  logger: Logger;
  progress: (message: string) => void;
}

/** Spacing of the line the nodes are put on when the network has no stored positions, m. */
const LINE_SPACING_M = 10;

/** The period's stored readings, in event-time order. */
async function storedReadings(options: GateEvaluationOptions, modalities: readonly string[]): Promise<Reading[]> {
  const { config, rows } = options;
  const nodes = await storedNodes(rows, config.network);
  const readings: Reading[] = [];
  const query = {
    network: config.network,
    from: options.from,
    until: options.until,
    tickMs: config.ingest.tickMs,
    modalities,
    nodes: Math.max(1, nodes.length),
    pageRows: 50_000,
  };
  for await (const page of readNodeTicks(rows, query))
    for (const tick of page)
      if (Object.keys(tick.values).length > 0)
        readings.push({ network: config.network, node: tick.node, ts: tick.time, values: tick.values });
  return readings.sort((a, b) => a.ts - b.ts || a.node.localeCompare(b.node));
}

/** The nodes where the detector last placed them (`node_position`), else on a line. */
async function sensorNodes(
  options: GateEvaluationOptions,
  nodes: string[],
  modalities: string[],
): Promise<SensorNode[]> {
  const rows = await options.rows(
    `SELECT last("x") AS "x", last("y") AS "y" FROM "${NODE_POSITION_MEASUREMENT}" WHERE "network" = ${escape.stringLit(options.config.network)} GROUP BY "node"`,
  );
  const placed = new Map(rows.map((row) => [String(row.node), { x: Number(row.x), y: Number(row.y) }]));
  const all = nodes.every((node) => placed.has(node));
  if (!all) options.progress(`no stored position for every node: placing them on a line ${LINE_SPACING_M} m apart`);
  return nodes.map((id, i) => ({
    id,
    ...(all ? placed.get(id)! : { x: i * LINE_SPACING_M, y: 0 }),
    modalities,
    status: 'active' as const,
  }));
}

/** The dataset the faults go into: a warm-up (the windows fill, the baselines fit), then the evaluated part. */
async function gateDataset(options: GateEvaluationOptions): Promise<LiveDataset | string> {
  const { config } = options;
  const modalities = [...new Set(options.models.flatMap(({ model }) => model.config.modalities))];
  const readings = await storedReadings(options, modalities);
  if (readings.length === 0) return 'no readings stored in the period';
  const first = readings[0].ts;
  const last = readings[readings.length - 1].ts;
  const warmTicks = Math.max(
    ...options.models.map(({ model }) => Math.max(model.config.window, model.config.context?.warmupTicks ?? 0) + 1),
  );
  const testFrom = first + Math.max(warmTicks * config.ingest.tickMs, Math.round((last - first) / 5));
  if (testFrom >= last)
    return `the period holds ${Math.round((last - first) / config.ingest.tickMs) + 1} ticks, fewer than the warm-up`;
  const nodes = [...new Set(readings.map((reading) => reading.node))].sort();
  const faultModalities = modalities.filter((m) => m !== 'voltage');
  const { sigma, levels } = spread(readings, testFrom, modalities);
  return {
    name: 'stored',
    description: `network ${config.network}, stored readings ${new Date(first).toISOString()} .. ${new Date(last).toISOString()}`,
    readings,
    testFrom,
    testTo: last,
    tickMs: config.ingest.tickMs,
    topology: createTopology(await sensorNodes(options, nodes, modalities)),
    faultNodes: wellReporting(readings, testFrom, last + 1),
    modalities: faultModalities.length > 0 ? faultModalities : modalities,
    sigma,
    levels,
  };
}

/** Both models' event recall and F1 on the same injected faults, or why there is no evaluation. */
export async function evaluateOnStoredHistory(
  options: GateEvaluationOptions,
): Promise<{ scores: EvaluationScore[] } | { unavailable: string }> {
  const dataset = await gateDataset(options);
  if (typeof dataset === 'string') return { unavailable: dataset };
  const workDir = await mkdtemp(path.join(tmpdir(), 'wsn-model-compare-'));
  try {
    const scores: EvaluationScore[] = [];
    for (const { version, model } of options.models) {
      options.progress(
        `live-path evaluation of ${version} (seed ${options.seed}, ${options.perKind} fault(s) per kind)`,
      );
      const result = await runLiveEvaluation({
        dataset,
        model,
        modelName: version,
        config: options.config,
        seeds: [options.seed],
        runsPerSeed: 1,
        perKind: options.perKind,
        workDir,
        logger: options.logger,
        progress: (message) => options.logger.debug({ version }, message),
      });
      if (result.events === 0)
        return {
          unavailable: `no injected fault fits the ${Math.round((dataset.testTo - dataset.testFrom) / HOUR_MS)} h after the warm-up`,
        };
      const own = result.scorers[0];
      scores.push({ version, events: result.events, recall: own.recallBySeed[0] ?? 0, f1: own.f1BySeed[0] ?? 0 });
    }
    return { scores };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
