import { writeFileSync } from 'node:fs';
import type { Config } from '../common/config.ts';
import type { TopicSpec } from '../common/transport.ts';
import { publishReadings, speedText } from './publish-run.ts';
import { Simulation, simulationReadings, writeSimulatedTopology } from './simulate.ts';
import { DAY_MS } from '../common/constants.ts';

export interface SimulateRunOptions {
  nodes: number;
  faults: boolean;
  seed: number;
  /** Sampling period; default ingest.tickMs. */
  tickMs?: number;
  /** Event-time speed-up; Infinity = as fast as possible. */
  speed: number;
  /** Rounds to send; default until stopped. */
  ticks?: number;
  /** Event time of the first round; default now when live, else so the run ends now. */
  startTs?: number;
  topologyOut?: string;
  faultsOut?: string;
  topic: TopicSpec;
}

/** Live (speed 1) starts now; faster runs start early enough to end now (a day when --ticks is not given). */
function defaultStart(tickMs: number, speed: number, ticks: number | undefined): number {
  const now = Math.floor(Date.now() / tickMs) * tickMs;
  return speed === 1 ? now : now - (ticks ?? Math.round(DAY_MS / tickMs)) * tickMs;
}

function writeGroundTruth(simulation: Simulation, options: SimulateRunOptions): void {
  if (options.topologyOut) {
    writeSimulatedTopology(options.topologyOut, { nodes: options.nodes, seed: options.seed });
    process.stderr.write(`simulate: node positions written to ${options.topologyOut}\n`);
  }
  if (options.faultsOut) writeFileSync(options.faultsOut, JSON.stringify(simulation.faults, null, 2) + '\n');
  for (const f of simulation.faults) {
    process.stderr.write(
      `simulate: fault ${f.kind} on node ${f.node}${f.modality === '*' ? '' : ` ${f.modality}`} from ${new Date(f.fromTs).toISOString()} to ${new Date(f.toTs).toISOString()}\n`,
    );
  }
}

/** `wsn-watch simulate`: a synthetic network's readings to the readings topic, paced by event time. */
export async function runSimulate(config: Config, options: SimulateRunOptions): Promise<void> {
  const tickMs = options.tickMs ?? config.ingest.tickMs;
  const startTs = options.startTs ?? defaultStart(tickMs, options.speed, options.ticks);
  const simulation = new Simulation({
    nodes: options.nodes,
    seed: options.seed,
    network: config.network,
    tickMs,
    startTs,
    faults: options.faults,
  });
  writeGroundTruth(simulation, options);
  const topic = options.topic.topic;
  const announce = (): void => {
    process.stderr.write(
      `simulate: ${options.nodes} nodes, network "${config.network}", tick ${tickMs} ms, from ${new Date(startTs).toISOString()} at ${speedText(options.speed)} speed → ${topic}\n`,
    );
  };
  await publishReadings(
    config,
    // Live (speed 1, from the current tick): each reading goes out at its event time, as a real network's would.
    {
      command: 'simulate',
      topic: options.topic,
      speed: options.speed,
      live: options.speed === 1 && options.startTs === undefined,
      announce,
    },
    (signal) => simulationReadings(simulation, options.ticks, signal),
  );
}
