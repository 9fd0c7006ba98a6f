/**
 * Where the detector's CPU goes, per 1,000 node-ticks, in one process without
 * a broker: decoding frames, scoring them (FrameProcessor.process, the model
 * included, all clusters of a tick in one call), encoding one checkpoint per
 * cluster (what checkpointing every batch would cost), and building the
 * InfluxDB points. Clusters of 64 nodes with the default model; the first
 * `window` ticks fill the windows and are not counted.
 *
 *   node --import tsx bench/detector-steps.ts --clusters 50 --ticks 40
 *
 * CPU = user + system time of the process (all threads, so the native
 * TensorFlow threads count) around each step.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.ts';
import type { Frame } from '../common/types.ts';
import { alertPolicyFromConfig } from '../detector/alerts/tracker.ts';
import { decodeFrame } from '../detector/service/frames.ts';
import { FrameProcessor } from '../detector/service/processor.ts';
import { encodeCheckpoint } from '../detector/state/checkpoint.ts';
import { loadDetector } from '../model/index.ts';
import { batchPoints } from '../store/influx-sink.ts';

const { values: args } = parseArgs({
  options: {
    clusters: { type: 'string', default: '50' },
    ticks: { type: 'string', default: '40' },
    model: { type: 'string', default: 'models/default' },
  },
});
const clusters = Number(args.clusters);
const ticks = Number(args.ticks);
const NODES = 64;
const model = await loadDetector(args.model);
const processor = new FrameProcessor({ model, policy: alertPolicyFromConfig(loadConfig(), model.threshold) });
const modalities = model.config.modalities;
const warmup = model.config.window;
const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** One tick of every cluster, as the frames topic carries it. */
function encodedFrames(t: number): Buffer[] {
  const tick = Date.UTC(2026, 0, 1) + t * 31_000;
  return Array.from({ length: clusters }, (_, c) => {
    const frame: Frame = {
      network: 'bench',
      cluster: `c${c}`,
      tick,
      topologyVersion: 'v',
      nodes: Array.from({ length: NODES }, (_, n) => ({
        node: `${c * NODES + n}`,
        values: Object.fromEntries(modalities.map((m, j) => [m, 20 + j + Math.sin(t / 5 + n) + Math.random() * 0.1])),
        staleTicks: 0,
        silent: false,
      })),
    };
    return Buffer.from(JSON.stringify(frame));
  });
}

const spent = { decode: 0, score: 0, checkpoint: 0, points: 0 };
let checkpointBytes = 0;
let nodeTicks = 0;
for (let t = 0; t < ticks; t++) {
  const encoded = encodedFrames(t);
  const counted = t >= warmup;
  let began = cpuMs();
  const frames = encoded.map((value) => {
    const decoded = decodeFrame(value);
    if (!decoded.ok) throw new Error(decoded.reason);
    return decoded.frame;
  });
  const decodeMs = cpuMs() - began;
  began = cpuMs();
  const result = await processor.process(frames);
  const scoreMs = cpuMs() - began;
  began = cpuMs();
  const checkpoints = result.clusters.map((cluster) => encodeCheckpoint(processor.checkpoint(cluster)));
  const checkpointMs = cpuMs() - began;
  began = cpuMs();
  batchPoints({ frames: result.frames, scores: result.scores, alerts: [] });
  const pointsMs = cpuMs() - began;
  if (!counted) continue;
  spent.decode += decodeMs;
  spent.score += scoreMs;
  spent.checkpoint += checkpointMs;
  spent.points += pointsMs;
  checkpointBytes = Math.max(checkpointBytes, ...checkpoints.map((text) => Buffer.byteLength(text)));
  nodeTicks += clusters * NODES;
}
const per1k = (ms: number): string => ((ms / nodeTicks) * 1000).toFixed(1);
process.stdout.write(
  `| ${clusters} × ${NODES} | ${ticks - warmup} | ${per1k(spent.decode)} | ${per1k(spent.score)} | ${per1k(spent.checkpoint)} | ${per1k(spent.points)} | ${(checkpointBytes / 1024).toFixed(0)} |\n`,
);
model.dispose();
