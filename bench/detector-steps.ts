/**
 * Where the detector's CPU goes, per 1,000 node-ticks, in one process without
 * a broker: decoding frames, scoring them (FrameProcessor.process, the model
 * included), encoding one checkpoint per cluster as the checkpoint store
 * writes it (what checkpointing every batch would cost), and building the
 * InfluxDB write's body (line protocol, as the sink builds it). Clusters of 64 nodes (`--nodes`: another size, or sizes
 * from MIN to MAX) with the default model; the first
 * `window` ticks fill the windows and are not counted.
 *
 *   node --import tsx bench/detector-steps.ts --clusters 50 --ticks 40 [--warmup N] [--nodes 64 | --nodes 26-64]
 *
 * CPU = user + system time of the process (all threads, so the native
 * TensorFlow threads count) around each step.
 *
 * Then the memory: what one cluster's state holds by part (the model's
 * typed arrays in bytes; the alert tracker and false-alert budget as the
 * JSON their checkpoint fields take, the stuck and sudden-jump statistics as
 * the binary checkpoint stores them), the heap and array
 * buffers freed per cluster when the processor forgets them all, and the
 * process's heap (and how much of the pages V8 holds for long-lived objects
 * is in use), array buffers and RSS at the end (after a collection) and its
 * peak RSS.
 */
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../common/config.ts';
import type { Frame } from '../common/types.ts';
import { alertPolicyFromConfig } from '../detector/alerts/tracker.ts';
import { decodeFrame } from '../detector/service/frames.ts';
import { FrameProcessor } from '../detector/service/processor.ts';
import { packFloatArrays } from '../detector/state/binary.ts';
import { encodeCheckpointBinary } from '../detector/state/checkpoint.ts';
import { clusterStateBytes, loadDetector, type ClusterStateBytes } from '../model/index.ts';
import { batchLines } from '../store/influx-sink.ts';

const { values: args } = parseArgs({
  options: {
    clusters: { type: 'string', default: '50' },
    ticks: { type: 'string', default: '40' },
    model: { type: 'string', default: 'models/default' },
    // Clusters per model call (Detector.maxClustersPerCall); the model's default when not given.
    'clusters-per-call': { type: 'string' },
    // Ticks not counted: by default the model's window; past 200 the sudden-jump statistics judge readings too.
    warmup: { type: 'string' },
    // Nodes per cluster: N, or MIN-MAX for clusters of sizes spread evenly between (as a clustered network has them).
    nodes: { type: 'string', default: '64' },
  },
});
const clusters = Number(args.clusters);
const ticks = Number(args.ticks);
const [minNodes, maxNodes = minNodes] = args.nodes.split('-').map(Number);
if (!(Number.isInteger(minNodes) && Number.isInteger(maxNodes) && minNodes >= 1 && maxNodes >= minNodes))
  throw new Error(`--nodes: expected N or MIN-MAX, got '${args.nodes}'`);
/** Cluster c's size: the sizes from MIN to MAX in turn, in a scattered order (ready clusters are not sorted by size). */
const clusterSize = (c: number): number => minNodes + ((c * 37) % (maxNodes - minNodes + 1));
/** Where cluster c's node ids start: every node of the run has an id of its own. */
const firstNode: number[] = [];
let nodesInAll = 0;
for (let c = 0; c < clusters; c++) {
  firstNode.push(nodesInAll);
  nodesInAll += clusterSize(c);
}
// A garbage collection before each memory reading, so it counts what is retained, not what is pending.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const retainedBytes = async (): Promise<number> => {
  // Typed arrays' memory is freed a while after the collection that found them unreachable: collect and wait a few times.
  for (let round = 0; round < 4; round++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};
const model = await loadDetector(args.model);
if (args['clusters-per-call'] !== undefined) model.maxClustersPerCall = Number(args['clusters-per-call']);
const processor = new FrameProcessor({ model, policy: alertPolicyFromConfig(loadConfig(), model.threshold) });
const modalities = model.config.modalities;
const warmup = args.warmup === undefined ? model.config.window : Number(args.warmup);
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
      nodes: Array.from({ length: clusterSize(c) }, (_, n) => ({
        node: `${firstNode[c] + n}`,
        values: Object.fromEntries(modalities.map((m, j) => [m, 20 + j + Math.sin(t / 5 + n) + Math.random() * 0.1])),
        staleTicks: 0,
        silent: false,
      })),
    };
    return Buffer.from(JSON.stringify(frame));
  });
}

/**
 * Decodes, scores, checkpoints and builds the points of every tick, CPU per step. A function, so that nothing of the
 * last batch (its result holds the rollback snapshot) stays reachable when the memory is measured.
 */
async function scoreTicks(): Promise<{ spent: Record<string, number>; checkpointBytes: number; nodeTicks: number }> {
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
    // As the checkpoint cadence does: encoded straight from the live state, and not all held at once.
    const checkpointSizes = result.clusters.map(
      (cluster) => encodeCheckpointBinary(processor.checkpoint(cluster, { shareState: true })).length,
    );
    const checkpointMs = cpuMs() - began;
    began = cpuMs();
    batchLines({ frames: result.frames, scores: result.scores, alerts: [] }).join('\n');
    // Delivered, as the service settles a batch once its sink write went through: its rollback's undo logs go.
    result.settle();
    const pointsMs = cpuMs() - began;
    if (!counted) continue;
    spent.decode += decodeMs;
    spent.score += scoreMs;
    spent.checkpoint += checkpointMs;
    spent.points += pointsMs;
    checkpointBytes = Math.max(checkpointBytes, ...checkpointSizes);
    nodeTicks += nodesInAll;
  }
  return { spent, checkpointBytes, nodeTicks };
}
const { spent, checkpointBytes, nodeTicks } = await scoreTicks();
const per1k = (ms: number): string => ((ms / nodeTicks) * 1000).toFixed(1);
process.stdout.write(
  `| ${clusters} × ${args.nodes} | ${ticks - warmup} | ${per1k(spent.decode)} | ${per1k(spent.score)} | ${per1k(spent.checkpoint)} | ${per1k(spent.points)} | ${(checkpointBytes / 1024).toFixed(0)} |\n`,
);

/** Mean KB per cluster of each part of its state. */
function statePartsKb(): Record<keyof ClusterStateBytes | 'tracker' | 'budget' | 'stuck' | 'jumps', number> {
  const sum = {
    windows: 0,
    hidden: 0,
    contextScalars: 0,
    contextHistory: 0,
    tracker: 0,
    budget: 0,
    stuck: 0,
    jumps: 0,
  };
  const jsonBytes = (value: unknown): number => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));
  for (const cluster of processor.clusters()) {
    const checkpoint = processor.checkpoint(cluster);
    const bytes = clusterStateBytes(checkpoint.state);
    for (const part of Object.keys(bytes) as Array<keyof ClusterStateBytes>) sum[part] += bytes[part];
    sum.tracker += jsonBytes(checkpoint.alerts);
    sum.budget += jsonBytes(checkpoint.alertBudget);
    sum.stuck += checkpoint.packedStuck ? packFloatArrays(checkpoint.packedStuck).length : 0;
    sum.jumps += checkpoint.packedJumps ? packFloatArrays(checkpoint.packedJumps).length : 0;
  }
  const count = processor.clusters().length;
  return Object.fromEntries(Object.entries(sum).map(([part, bytes]) => [part, bytes / count / 1024])) as ReturnType<
    typeof statePartsKb
  >;
}
const parts = statePartsKb();
const peakRss = process.resourceUsage().maxRSS * 1024;
// What the clusters hold: the heap and array buffers freed when the processor forgets them all.
const withClusters = await retainedBytes();
const memory = process.memoryUsage();
// Pages V8 holds for long-lived objects against what lives in them: the difference is the heap's fragmentation.
const oldSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'old_space');
for (const cluster of processor.clusters()) processor.drop(cluster);
const retainedPerClusterKb = (withClusters - (await retainedBytes())) / clusters / 1024;
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
const kb = (value: number): string => value.toFixed(1);
process.stdout.write(
  `\n| windows KB | GRU hidden KB | context scalars KB | context history KB | tracker JSON KB | budget JSON KB | stuck KB | jumps KB | retained per cluster KB | heap used MB | old space MB, committed / used | array buffers MB | RSS MB | peak RSS MB |\n` +
    `| ${kb(parts.windows)} | ${kb(parts.hidden)} | ${kb(parts.contextScalars)} | ${kb(parts.contextHistory)} | ${kb(parts.tracker)} | ${kb(parts.budget)} | ${kb(parts.stuck)} | ${kb(parts.jumps)} | ${kb(retainedPerClusterKb)} | ${mb(memory.heapUsed)} | ${mb(oldSpace?.physical_space_size ?? 0)} / ${mb(oldSpace?.space_used_size ?? 0)} | ${mb(memory.arrayBuffers)} | ${mb(memory.rss)} | ${mb(peakRss)} |\n`,
);
model.dispose();
