/**
 * The data the live-path evaluation injects faults into: the raw IBRL test
 * days (readings at their own timestamps) and a synthetic network. Each
 * comes with a warm-up stretch before the test part (the model's windows
 * fill, the baselines fit and calibrate there; nothing is counted there),
 * its node positions, and the per-modality spread σ that sizes the faults.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reading } from '../../common/types.ts';
import { ibrlToReading, streamIbrl } from '../../sources/ibrl-reader.ts';
import { SYNTHETIC_TICK_MS, generateSyntheticNetwork } from '../../sources/synthetic.ts';
import { createTopology, loadTopology, type Topology } from '../../topology/index.ts';
import { HOUR_MS, DAY_MS } from '../../common/constants.ts';

export interface LiveDataset {
  name: string;
  description: string;
  /** Warm-up then test readings, in event-time order. */
  readings: Reading[];
  /** First instant of the test part, UTC ms. */
  testFrom: number;
  testTo: number;
  tickMs: number;
  topology: Topology;
  /** Nodes faults may go to (reporting through the whole test part). */
  faultNodes: string[];
  /** Modalities faults go to (ones the model sees). */
  modalities: string[];
  /** Pooled std per modality over the warm-up readings. */
  sigma: Record<string, number>;
  /** Mean per node × modality over the warm-up readings (`${node}\u0000${modality}`). */
  levels: Map<string, number>;
}

/** IBRL epochs are 31 s rounds; the excerpt runs from epoch 14285 to 28682. */
const IBRL_FIRST_EPOCH = 14285;
const IBRL_LAST_EPOCH = 28682;

export function spread(
  readings: readonly Reading[],
  until: number,
  modalities: readonly string[],
): { sigma: Record<string, number>; levels: Map<string, number> } {
  const sums = new Map<string, { n: number; s: number; q: number }>();
  for (const r of readings) {
    if (r.ts >= until) break;
    for (const m of modalities) {
      const v = r.values[m];
      if (v === undefined || !Number.isFinite(v)) continue;
      const key = `${r.node}\u0000${m}`;
      const acc = sums.get(key) ?? { n: 0, s: 0, q: 0 };
      acc.n++;
      acc.s += v;
      acc.q += v * v;
      sums.set(key, acc);
    }
  }
  // σ: the median over nodes of each node's own std (a few broken motes do not inflate it).
  const sigma: Record<string, number> = {};
  for (const m of modalities) {
    const stds = [...sums]
      .filter(([key, a]) => key.endsWith(`\u0000${m}`) && a.n > 1)
      .map(([, a]) => Math.sqrt(Math.max(0, a.q / a.n - (a.s / a.n) ** 2)))
      .sort((a, b) => a - b);
    sigma[m] = stds.length ? stds[stds.length >> 1] : 1;
  }
  const levels = new Map([...sums].map(([key, a]) => [key, a.s / a.n]));
  return { sigma, levels };
}

/** Nodes with at least half the median reading count in [from, to) (also the model gate's fault nodes). */
export function wellReporting(readings: readonly Reading[], from: number, to: number): string[] {
  const counts = new Map<string, number>();
  for (const r of readings) if (r.ts >= from && r.ts < to) counts.set(r.node, (counts.get(r.node) ?? 0) + 1);
  const sorted = [...counts.values()].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1] ?? 0;
  return [...counts].filter(([, n]) => n >= median / 2).map(([node]) => node);
}

/**
 * The IBRL excerpt's last 40 % of epochs as the test part (the paper
 * protocol's split), with `warmupHours` of the training part before it.
 */
export async function ibrlDataset(
  dir: string,
  options: {
    network: string;
    tickMs: number;
    warmupHours: number;
    modalities: string[];
    onProgress?: (m: string) => void;
  },
): Promise<LiveDataset> {
  const testEpoch = IBRL_FIRST_EPOCH + Math.trunc((IBRL_LAST_EPOCH - IBRL_FIRST_EPOCH + 1) * 0.6);
  const warmEpoch = testEpoch - Math.round((options.warmupHours * HOUR_MS) / 31_000);
  const readings: Reading[] = [];
  let testFrom = Infinity;
  let bad = 0;
  for await (const raw of streamIbrl(dir, { fromEpoch: warmEpoch, onBadLine: () => bad++ })) {
    const reading = ibrlToReading(raw, options.network);
    // Light is not a modality the models see; leave it out as a gateway for them would.
    const values = Object.fromEntries(Object.entries(reading.values).filter(([m]) => options.modalities.includes(m)));
    if (Object.keys(values).length === 0) continue;
    if (raw.epoch >= testEpoch && raw.ts < testFrom) testFrom = raw.ts;
    readings.push({ ...reading, values });
  }
  options.onProgress?.(
    `ibrl: ${readings.length} readings from epoch ${warmEpoch} (${bad} bad line(s) skipped by the reader); test part from epoch ${testEpoch}`,
  );
  const testTo = readings[readings.length - 1].ts;
  const topology = createTopology(loadTopology(path.join(dir, 'node.txt')));
  const { sigma, levels } = spread(readings, testFrom, options.modalities);
  return {
    name: 'ibrl',
    description: `IBRL test days (epochs ${testEpoch}–${IBRL_LAST_EPOCH}, ${new Date(testFrom).toISOString().slice(0, 16)}Z to ${new Date(testTo).toISOString().slice(0, 16)}Z), raw readings at their own timestamps, ${options.warmupHours} h of the training days before them as warm-up`,
    readings,
    testFrom,
    testTo,
    tickMs: options.tickMs,
    topology,
    faultNodes: wellReporting(readings, testFrom, testTo + 1),
    modalities: ['temperature', 'humidity'].filter((m) => options.modalities.includes(m)),
    sigma,
    levels,
  };
}

/** The synthetic network a model was trained on, from its metadata (`synthetic:nodes=12,steps=2000,seed=1`). */
export interface SyntheticSource {
  nodes: number;
  steps: number;
  seed: number;
  /** Share of readings lost in the radio (absent: none). */
  loss?: number;
}

/** Parses `wsn-watch train --synthetic`'s data source; undefined for any other. */
export function parseSyntheticSource(dataSource: string | undefined): SyntheticSource | undefined {
  const match = /^synthetic:nodes=(\d+),steps=(\d+),seed=(\d+)(?:,loss=([\d.]+))?$/.exec(dataSource ?? '');
  if (!match) return undefined;
  const source: SyntheticSource = { nodes: Number(match[1]), steps: Number(match[2]), seed: Number(match[3]) };
  if (match[4] !== undefined) source.loss = Number(match[4]);
  return source;
}

/**
 * The synthetic network a model was trained on (models/default: 12 nodes,
 * seed 1, the first 2,000 samples; one sample per 5 minutes), continued past
 * its training samples: a day of warm-up, then `testDays` days of test.
 */
export function syntheticDataset(options: {
  network: string;
  workDir: string;
  testDays: number;
  start: number;
  source?: SyntheticSource;
}): LiveDataset {
  const tickMs = SYNTHETIC_TICK_MS;
  const perDay = Math.round(DAY_MS / tickMs);
  const { nodes, steps: trained, seed, loss } = options.source ?? { nodes: 12, steps: 2_000, seed: 1 };
  const steps = trained + options.testDays * perDay;
  // The same radio loss as in training; a lost reading is not sent, and the live path holds the node's values.
  const synthetic = generateSyntheticNetwork({ nodes, steps, seed, lossRate: loss });
  const { series } = synthetic;
  const first = trained - perDay;
  const readings: Reading[] = [];
  const N = series.nodes.length;
  const M = series.modalities.length;
  for (let t = first; t < steps; t++) {
    series.nodes.forEach((node, n) => {
      if (synthetic.lost[t * N + n]) return;
      const values = Object.fromEntries(series.modalities.map((m, k) => [m, series.data[(t * N + n) * M + k]]));
      // Gateways stamp readings a little after the round starts.
      readings.push({
        network: options.network,
        node,
        ts: options.start + (t - first) * tickMs + 2_000 + n * 300,
        values,
      });
    });
  }
  mkdirSync(options.workDir, { recursive: true });
  const nodeFile = path.join(options.workDir, 'synthetic-nodes.txt');
  writeFileSync(
    nodeFile,
    series.nodes
      .map((node, n) => `${node} ${synthetic.positions[n][0].toFixed(2)} ${synthetic.positions[n][1].toFixed(2)}`)
      .join('\n') + '\n',
  );
  const testFrom = options.start + perDay * tickMs;
  const { sigma, levels } = spread(readings, testFrom, series.modalities);
  return {
    name: 'synthetic',
    description: `synthetic network of ${nodes} nodes (sources/synthetic.ts, seed ${seed}, ${tickMs / 1000} s ticks${loss ? `, ${loss * 100} % of readings lost in the radio` : ''}), samples ${trained}–${steps - 1} (past the ${trained} the model was trained on): ${options.testDays} test days after one warm-up day`,
    readings,
    testFrom,
    testTo: readings[readings.length - 1].ts,
    tickMs,
    topology: createTopology(loadTopology(nodeFile)),
    faultNodes: [...series.nodes],
    modalities: ['temperature', 'humidity'],
    sigma,
    levels,
  };
}
