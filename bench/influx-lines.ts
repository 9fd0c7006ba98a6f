/**
 * What serializing a detector batch's InfluxDB points costs, per 1,000
 * points, two ways on the same batches, alternating rounds in one process:
 * the `influx` client's serializer (`batchPoints` of test/support, then `writePoints`
 * building its request body; the request is recorded, not sent) against the
 * sink's own line protocol (`batchLines`, joined). Frames of `--nodes` nodes
 * with `--modalities` readings each and a full verdict per node, as the live
 * detector writes them. No InfluxDB is needed.
 *
 *   node --import tsx bench/influx-lines.ts [--frames 2000] [--nodes 51] [--modalities 3] [--rounds 5]
 *
 * CPU = user + system time of the process around each round.
 */
import { parseArgs } from 'node:util';
import type { ClusterScore, Frame } from '../common/types.ts';
import { influxClient } from '../store/influx-connection.ts';
import { batchLines } from '../store/influx-sink.ts';
import { batchPoints } from '../test/support/anomaly-points.ts';
import type { ResultBatch } from '../store/sink.ts';

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '2000' },
    nodes: { type: 'string', default: '51' },
    modalities: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
  },
});
const frames = Number(args.frames);
const nodes = Number(args.nodes);
const modalities = ['temperature', 'humidity', 'light', 'voltage', 'pressure'].slice(0, Number(args.modalities));
const rounds = Number(args.rounds);

/** Batches of 50 frames, as a detector batch of a partition holds them. */
function batches(): ResultBatch[] {
  const out: ResultBatch[] = [];
  for (let start = 0; start < frames; start += 50) {
    const batch: ResultBatch = { frames: [], scores: [], alerts: [] };
    for (let f = start; f < Math.min(start + 50, frames); f++) {
      const frame: Frame = {
        network: 'bench',
        cluster: `c${f}`,
        tick: 1_764_000_000_000 + f * 31_000,
        topologyVersion: 'v1',
        nodes: Array.from({ length: nodes }, (_, i) => ({
          node: `n${f * nodes + i}`,
          values: Object.fromEntries(modalities.map((m, k) => [m, 20 + Math.sin(f + i + k) * 5])),
          staleTicks: 0,
          silent: false,
        })),
      };
      const score: ClusterScore = {
        network: frame.network,
        cluster: frame.cluster,
        tick: frame.tick,
        probability: 0.0123456789,
        model: 'v3',
        nodes: frame.nodes.map((node, i) => ({
          node: node.node,
          probability: Math.abs(Math.cos(i)) / 7,
          score: Math.sin(i) * 3,
          isAnomaly: false,
          reconstructionError: Object.fromEntries(modalities.map((m, k) => [m, Math.abs(Math.sin(i * k + 1)) / 3])),
          reconstruction: Object.fromEntries(modalities.map((m, k) => [m, 20 + Math.cos(f + i + k) * 5])),
        })),
      };
      batch.frames.push(frame);
      batch.scores.push(score);
    }
    out.push(batch);
  }
  return out;
}

const client = influxClient('http://127.0.0.1:8086', 'bench');
let bodyChars = 0;
(client as unknown as { _pool: { discard(request: { body: string }): Promise<void> } })._pool.discard = (request) => {
  bodyChars += request.body.length;
  return Promise.resolve();
};

const ways: Record<string, (batch: ResultBatch) => Promise<void>> = {
  'influx client (batchPoints + writePoints)': (batch) =>
    client.writePoints(batchPoints(batch), { precision: 'ms', database: 'bench' }),
  'sink line protocol (batchLines + join)': (batch) => {
    bodyChars += batchLines(batch).join('\n').length;
    return Promise.resolve();
  },
};

const data = batches();
const points = frames * nodes;
const results = new Map<string, number[]>(Object.keys(ways).map((name) => [name, []]));
const chars = new Map<string, number>();
for (let round = -1; round < rounds; round++) {
  for (const [name, write] of Object.entries(ways)) {
    bodyChars = 0;
    const before = process.cpuUsage();
    for (const batch of data) await write(batch);
    const cpu = process.cpuUsage(before);
    chars.set(name, bodyChars);
    // Round -1 warms both up and is not counted.
    if (round >= 0) results.get(name)!.push((cpu.user + cpu.system) / 1000 / (points / 1000));
  }
}
console.log(
  `${frames} frames × ${nodes} nodes × ${modalities.length} modalities = ${points} points, ${rounds} rounds each, alternating\n`,
);
console.log(
  '| serializer | CPU ms / 1,000 points, per round | median | body bytes / point |\n| --- | --- | ---: | ---: |',
);
for (const [name, values] of results) {
  const median = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(
    `| ${name} | ${values.map((v) => v.toFixed(1)).join(' / ')} | ${median.toFixed(1)} | ${(chars.get(name)! / points).toFixed(0)} |`,
  );
}
