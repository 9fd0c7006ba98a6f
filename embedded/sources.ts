import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Reading } from '../common/types.ts';
import { ibrlToReading, streamIbrl } from '../sources/ibrl-reader.ts';
import { StreamInjector } from '../sources/stream-inject.ts';
import { Simulation, simulatedTopologyText, simulationReadings } from '../sources/simulate.ts';
import { createTopology, loadTopology, parseTopologyText, type Topology } from '../topology/index.ts';
import { planDemoInjections, simulatorFaults, type DemoFault } from '../sources/demo-faults.ts';

/**
 * Where the demo's readings come from: the IBRL recording when its folder is
 * there, otherwise the synthetic network. Either way the demo gets the
 * network's topology (positions → graph → clusters), the faults it will
 * contain, and the readings in event-time order with those faults applied.
 */
export interface DemoSource {
  kind: 'ibrl' | 'simulation';
  /** One human line: what is replayed or simulated. */
  description: string;
  topology: Topology;
  /** Event time of the first reading, UTC ms. */
  startTs: number;
  faults: DemoFault[];
  /** The readings, in event-time order; stops early when `signal` aborts. */
  readings(signal: AbortSignal): AsyncIterable<Reading>;
}

export interface SourceOptions {
  network: string;
  tickMs: number;
  seed: number;
  /** Largest cluster: small enough that the map shows several clusters. */
  maxClusterSize: number;
}

/**
 * Event time of the simulation's first round: fixed, so a seed gives the same
 * run (values follow the time of day), and far enough in the past that even
 * at 600× the simulated clock stays behind the real one for over a day of
 * wall time (ingest rejects readings from the future).
 */
export const SIMULATION_START = Date.UTC(2025, 0, 1);

/** Whether `dir` holds an IBRL recording (node.txt and readings/). */
export function ibrlDataFound(dir: string): boolean {
  return existsSync(path.join(dir, 'node.txt')) && existsSync(path.join(dir, 'readings'));
}

export function simulationSource(options: SourceOptions & { nodes: number }): DemoSource {
  const startTs = SIMULATION_START;
  const simulation = new Simulation({
    nodes: options.nodes,
    seed: options.seed,
    network: options.network,
    tickMs: options.tickMs,
    startTs,
    faults: true,
  });
  const topology = createTopology(
    parseTopologyText(simulatedTopologyText(simulation.nodes), 'simulated-nodes.txt', { format: 'ibrl' }),
    {
      cluster: { maxSize: options.maxClusterSize, seed: options.seed },
    },
  );
  const own = simulatorFaults(simulation.faults);
  const plan = planDemoInjections({
    nodes: simulation.nodes.map((n) => n.id),
    avoid: new Set(own.map((f) => f.node)),
    startTs,
    tickMs: options.tickMs,
    seed: options.seed,
  });
  return {
    kind: 'simulation',
    description: `synthetic network: ${options.nodes} nodes, seed ${options.seed}, tick ${options.tickMs / 1000} s, from ${new Date(startTs).toISOString()}`,
    topology,
    startTs,
    faults: [...own, ...plan.faults].sort((a, b) => a.fromTs - b.fromTs),
    readings: async function* (signal) {
      const injector = new StreamInjector(plan.injections, options.seed);
      for (const reading of simulationReadings(simulation, undefined, signal)) yield injector.apply(reading);
    },
  };
}

/**
 * The IBRL recording (readings/<mote>.txt merged in time order), with the
 * demo's injections placed relative to its first reading. `onBadLine` hears
 * about lines the reader skipped.
 */
export async function ibrlSource(
  dir: string,
  options: SourceOptions & { onBadLine?: (message: string) => void },
): Promise<DemoSource> {
  const topology = createTopology(loadTopology(path.join(dir, 'node.txt')), {
    cluster: { maxSize: options.maxClusterSize, seed: options.seed },
  });
  const open = () =>
    streamIbrl(dir, {
      onBadLine: (issue) => options.onBadLine?.(`${issue.file}:${issue.line}: ${issue.message} (skipped)`),
    });
  // The first reading fixes where the injections go; reading it opens every mote file once.
  const first = await open().next();
  if (first.done) throw new Error(`${dir}: the IBRL readings hold no valid line`);
  const startTs = first.value.ts;
  const nodes = [...topology.network.graph.nodes()];
  const plan = planDemoInjections({
    nodes: wellReporting(dir, nodes),
    startTs,
    tickMs: options.tickMs,
    seed: options.seed,
  });
  return {
    kind: 'ibrl',
    description: `IBRL replay from ${dir}: ${nodes.length} motes in node.txt, readings from ${new Date(startTs).toISOString()}`,
    topology,
    startTs,
    faults: plan.faults,
    readings: async function* (signal) {
      const injector = new StreamInjector(plan.injections, options.seed);
      for await (const raw of open()) {
        if (signal.aborted) return;
        yield injector.apply(ibrlToReading(raw, options.network), raw.epoch);
      }
    },
  };
}

/**
 * The motes with the longer recordings (file size at least the median): some
 * IBRL motes die early, and a fault injected into one that no longer reports
 * would never show.
 */
function wellReporting(dir: string, nodes: string[]): string[] {
  const sizes = new Map(
    nodes.map((node) => {
      const file = path.join(dir, 'readings', `${node}.txt`);
      return [node, existsSync(file) ? statSync(file).size : 0] as const;
    }),
  );
  const sorted = [...sizes.values()].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const good = nodes.filter((node) => (sizes.get(node) ?? 0) >= median && (sizes.get(node) ?? 0) > 0);
  return good.length >= 2 ? good : nodes;
}
