/**
 * Native TensorFlow (tfjs-node) against the pure TensorFlow.js backends (wasm,
 * cpu), side by side in one run, on the detector model of model:
 *
 * - inference: one streaming tick (Detector.step) of one cluster of N nodes,
 *   random graph with about 6 neighbours per node, 3 modalities, window 20;
 * - training: trainDetector's own windows-per-second counter (one window = one
 *   time step of the whole cluster, forward + backward + Adam), first batch
 *   left out as warm-up.
 *
 * Usage:
 *   node --import tsx bench/backends.ts [--backends tensorflow,wasm,cpu]
 *     [--sizes 16,64,256] [--train-sizes 16,64] [--rounds 3]
 *     [--tick-seconds 1] [--train-batches 3] [--write docs/benchmarks.md]
 *
 * The machine is shared, so its load changes during a run: the backends take
 * turns (`--rounds` rounds, each backend measured once per round for
 * --tick-seconds per size and --train-batches batches), and every backend's
 * figure pools its rounds, so a busy minute hurts all of them alike.
 * Progress goes to stderr, the Markdown table to stdout; --write also puts it
 * into the file between the backends-bench markers. Results: docs/benchmarks.md.
 */
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../common/random.ts';
import { createLogger } from '../common/log.ts';
import { initBackend, type BackendName } from '../model/backend.ts';
import {
  Detector,
  DetectorNetwork,
  DETECTOR_FORMAT,
  resolveModelConfig,
  topologyHash,
  trainDetector,
  type ClusterGraph,
  type TrainProgress,
} from '../model/index.ts';
import type { Series } from '../sources/series.ts';
import { DEFAULT_ALERT_THRESHOLD } from '../common/thresholds.ts';

const MODALITIES = ['temperature', 'humidity', 'voltage'];
const NEIGHBOURS = 6;
const SEED = 20261128;
const BEGIN = '<!-- backends-bench:begin -->';
const END = '<!-- backends-bench:end -->';

const { values: args } = parseArgs({
  options: {
    backends: { type: 'string', default: 'tensorflow,wasm,cpu' },
    sizes: { type: 'string', default: '16,64,256' },
    'train-sizes': { type: 'string', default: '16,64' },
    rounds: { type: 'string', default: '3' },
    'tick-seconds': { type: 'string', default: '1' },
    'train-batches': { type: 'string', default: '3' },
    write: { type: 'string' },
  },
});

function numbers(flag: string, text: string): number[] {
  if (text.trim() === '') return [];
  const list = text.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 2))
    throw new Error(`--${flag}: expected a comma-separated list of integers >= 2, got '${text}'`);
  return list;
}

const backends = args.backends.split(',') as BackendName[];
for (const b of backends)
  if (!['tensorflow', 'wasm', 'cpu'].includes(b)) throw new Error(`--backends: unknown backend '${b}'`);
const sizes = numbers('sizes', args.sizes);
const trainSizes = numbers('train-sizes', args['train-sizes']);
const tickSeconds = Number(args['tick-seconds']);
const trainBatches = Number(args['train-batches']);
const rounds = Number(args.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1))
  throw new Error(`--rounds: expected a positive integer, got '${args.rounds}'`);
if (!(tickSeconds > 0)) throw new Error(`--tick-seconds: expected a positive number, got '${args['tick-seconds']}'`);
if (!(Number.isInteger(trainBatches) && trainBatches >= 2))
  throw new Error(`--train-batches: expected an integer >= 2 (the first is warm-up), got '${args['train-batches']}'`);

const progress = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

/** Random geometric graph: each node linked to its NEIGHBOURS nearest, symmetrised. */
function randomGraph(n: number, rng: Rng): ClusterGraph {
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
  const points = nodes.map(() => [rng.next(), rng.next()] as const);
  const adjacency = nodes.map(() => new Array<number>(n).fill(0));
  points.forEach(([x, y], i) => {
    const nearest = points
      .map(([u, v], j) => ({ j, d: (u - x) ** 2 + (v - y) ** 2 }))
      .filter(({ j }) => j !== i)
      .sort((a, b) => a.d - b.d)
      .slice(0, Math.min(NEIGHBOURS, n - 1));
    for (const { j } of nearest) {
      adjacency[i][j] = 1;
      adjacency[j][i] = 1;
    }
  });
  return { nodes, adjacency };
}

function meanDegree(graph: ClusterGraph): number {
  return graph.adjacency.reduce((sum, row) => sum + row.filter((v) => v > 0).length, 0) / graph.nodes.length;
}

/** A z-normalised-looking series: a shared daily cycle, a per-node phase and noise. */
function syntheticSeries(graph: ClusterGraph, steps: number, rng: Rng): Series {
  const n = graph.nodes.length;
  const m = MODALITIES.length;
  const data = new Float32Array(steps * n * m);
  const phase = graph.nodes.map(() => rng.next() * 0.5);
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < m; k++) {
        data[(t * n + i) * m + k] = Math.sin((2 * Math.PI * t) / 96 + phase[i] + k) + 0.1 * rng.normal();
      }
    }
  }
  return { nodes: graph.nodes, modalities: MODALITIES, steps, data };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface TickSample {
  /** Wall-clock milliseconds. */
  wall: number;
  /** Process CPU milliseconds (user + system, every thread: libtensorflow's pool included). */
  cpu: number;
}

/** Each streaming tick of one cluster of n nodes, for about tickSeconds. */
async function benchTicks(n: number): Promise<TickSample[]> {
  const rng = createRng(SEED + n);
  const graph = randomGraph(n, rng);
  const config = resolveModelConfig({ modalities: MODALITIES });
  const network = new DetectorNetwork(config, SEED);
  const detector = new Detector(network, {
    format: DETECTOR_FORMAT,
    config,
    threshold: DEFAULT_ALERT_THRESHOLD,
    graph,
    topologyHash: topologyHash(graph),
  });
  const state = detector.createState(graph.nodes);
  const tick = async (): Promise<void> => {
    const values = Float32Array.from({ length: n * MODALITIES.length }, () => rng.normal());
    const [out] = await detector.step([{ state, values, adjacency: graph.adjacency }]);
    if (out.ready && !Number.isFinite(out.cluster)) throw new Error(`tick for ${n} nodes gave a non-finite score`);
  };
  // Fill the window, then a few scored ticks to warm kernels and caches up.
  for (let i = 0; i < config.window + 2; i++) await tick();
  const times: TickSample[] = [];
  const started = performance.now();
  while (times.length < 5 || (performance.now() - started < tickSeconds * 1000 && times.length < 1000)) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await tick();
    const c1 = process.cpuUsage(c0);
    times.push({ wall: performance.now() - t0, cpu: (c1.user + c1.system) / 1000 });
  }
  network.dispose();
  return times;
}

interface TrainResult {
  windowsPerSecond: number;
  windows: number;
}

/** Windows per optimiser step: two sequences of SEQUENCE_LENGTH consecutive windows. */
const BATCH_WINDOWS = 16;
const SEQUENCE_LENGTH = 8;
const VALIDATION_FRACTION = 0.15;

async function benchTraining(n: number, backend: BackendName): Promise<TrainResult> {
  const rng = createRng(SEED ^ n);
  const graph = randomGraph(n, rng);
  // Just enough steps for trainBatches batches of distinct sequences, and a
  // short validation part (trainDetector scores it once per epoch, untimed).
  const epochWindows = trainBatches * BATCH_WINDOWS;
  const window = resolveModelConfig({ modalities: MODALITIES }).window;
  const steps = Math.max(100, Math.ceil((epochWindows + SEQUENCE_LENGTH + window) / (1 - VALIDATION_FRACTION)) + 2);
  const series = syntheticSeries(graph, steps, rng);
  // trainDetector reports cumulative windows / training seconds after each
  // batch; the difference between the first and the last report leaves the
  // first batch (kernel set-up, allocator warm-up) out.
  const reports: TrainProgress[] = [];
  const detector = await trainDetector(
    series,
    graph,
    {
      seed: SEED,
      epochs: 1,
      batchSize: BATCH_WINDOWS,
      sequenceLength: SEQUENCE_LENGTH,
      windowsPerEpoch: epochWindows,
      validationFraction: VALIDATION_FRACTION,
      patience: 1,
      backend,
    },
    (report) => {
      if (report.phase === 'train') reports.push(report);
    },
  );
  detector.network.dispose();
  const first = reports[0];
  const last = reports.at(-1);
  if (!first || !last || last === first) throw new Error(`training on ${n} nodes reported fewer than 2 batches`);
  const windows = (report: TrainProgress): number => report.batch * BATCH_WINDOWS;
  const seconds = (report: TrainProgress): number => windows(report) / report.windowsPerSecond;
  return {
    windowsPerSecond: (windows(last) - windows(first)) / (seconds(last) - seconds(first)),
    windows: windows(last) - windows(first),
  };
}

interface BackendRun {
  backend: BackendName;
  unavailable?: string;
  detail?: string;
  /** Tick samples by cluster size, pooled over the rounds. */
  ticks: Map<number, TickSample[]>;
  /** Windows and seconds by cluster size, summed over the rounds. */
  training: Map<number, TrainResult & { seconds: number }>;
}

const runs: BackendRun[] = backends.map((backend) => ({ backend, ticks: new Map(), training: new Map() }));
const started = Date.now();
const loadBefore = os.loadavg()[0];
for (let round = 1; round <= rounds; round++) {
  for (const run of runs.filter((r) => !r.unavailable)) {
    const { backend } = run;
    try {
      // Logs `tensorflow backend: NAME` in the first round only.
      const selection = await initBackend({ backend, logger: createLogger('bench', round === 1 ? 'info' : 'warn') });
      run.detail = selection.libtensorflowVersion ? `libtensorflow ${selection.libtensorflowVersion}` : undefined;
    } catch (error) {
      run.unavailable = (error as Error).message;
      progress(`${backend}: unavailable (${run.unavailable})`);
      continue;
    }
    for (const n of sizes) {
      const times = await benchTicks(n);
      run.ticks.set(n, [...(run.ticks.get(n) ?? []), ...times]);
      const wall = times.map((t) => t.wall).sort((a, b) => a - b);
      progress(
        `round ${round}/${rounds} ${backend}: tick, ${n} nodes: median ${quantile(wall, 0.5).toFixed(2)} ms over ${times.length} ticks`,
      );
    }
    for (const n of trainSizes) {
      const result = await benchTraining(n, backend);
      const sum = run.training.get(n) ?? { windows: 0, seconds: 0, windowsPerSecond: 0 };
      sum.windows += result.windows;
      sum.seconds += result.windows / result.windowsPerSecond;
      sum.windowsPerSecond = sum.windows / sum.seconds;
      run.training.set(n, sum);
      progress(
        `round ${round}/${rounds} ${backend}: training, ${n} nodes: ${result.windowsPerSecond.toFixed(1)} windows/s over ${result.windows} windows`,
      );
    }
  }
}

/** Median and 90th percentile of a backend's pooled tick times. */
function tickStats(
  run: BackendRun,
  n: number,
): { median: number; p90: number; cpu: number; count: number } | undefined {
  const times = run.ticks.get(n);
  if (!times || times.length === 0) return undefined;
  const wall = times.map((t) => t.wall).sort((a, b) => a - b);
  const cpu = times.map((t) => t.cpu).sort((a, b) => a - b);
  return { median: quantile(wall, 0.5), p90: quantile(wall, 0.9), cpu: quantile(cpu, 0.5), count: wall.length };
}

const native = runs.find((r) => r.backend === 'tensorflow' && !r.unavailable);
const fallbacks = runs.filter((r) => r.backend !== 'tensorflow' && !r.unavailable);
const available = runs.filter((r) => !r.unavailable);

/** "3.2× faster" or, when the native backend loses, "0.4× (slower)". */
function ratio(speedup: number): string {
  if (!Number.isFinite(speedup)) return '–';
  return speedup >= 1 ? `${speedup.toFixed(1)}× faster` : `${speedup.toFixed(2)}× (slower)`;
}

function table(): string {
  const header = [
    'measure',
    'nodes',
    ...available.map((r) => r.backend),
    ...(native ? fallbacks.map((r) => `tensorflow vs ${r.backend}`) : []),
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const n of sizes) {
    const cells = available.map((r) => {
      const t = tickStats(r, n);
      return t
        ? `${t.median.toFixed(1)} ms (p90 ${t.p90.toFixed(1)}; CPU ${t.cpu.toFixed(1)} ms; ${t.count} ticks)`
        : '–';
    });
    const ratios = native
      ? fallbacks.map((r) => {
          const [mine, theirs] = [tickStats(native, n), tickStats(r, n)];
          return `${ratio((theirs?.median ?? NaN) / (mine?.median ?? NaN))} (CPU ${((theirs?.cpu ?? NaN) / (mine?.cpu ?? NaN)).toFixed(1)}×)`;
        })
      : [];
    lines.push(`| inference per tick, median | ${n} | ${[...cells, ...ratios].join(' | ')} |`);
  }
  for (const n of trainSizes) {
    const cells = available.map((r) => {
      const t = r.training.get(n);
      return t ? `${t.windowsPerSecond.toFixed(1)} windows/s (${t.windows} windows)` : '–';
    });
    const ratios = native
      ? fallbacks.map((r) =>
          ratio((native.training.get(n)?.windowsPerSecond ?? NaN) / (r.training.get(n)?.windowsPerSecond ?? NaN)),
        )
      : [];
    lines.push(`| training throughput | ${n} | ${[...cells, ...ratios].join(' | ')} |`);
  }
  return lines.join('\n');
}

const command = `node --import tsx bench/backends.ts ${process.argv.slice(2).join(' ')}`.trim();
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const report = [
  '## Native TensorFlow against the TensorFlow.js backends',
  '',
  `Command: \`${command}\` (from the repository root, after \`bash scripts/install-tfjs-node.sh\`; docs/native-tensorflow.md explains the backends).`,
  '',
  'Model: the detector of model with its default configuration (3 modalities, window 20). ' +
    '"inference per tick" is one `Detector.step` of one cluster of N nodes (wall-clock median and 90th percentile; ' +
    'CPU = user + system time of the process, all threads, median). "training throughput" is `trainDetector`\'s own ' +
    `windows per second (one window = one time step of the whole cluster; forward, backward and Adam; batches of ${BATCH_WINDOWS} windows, ` +
    'first batch left out as warm-up). The backends take turns round by round, so changes in the load of the shared machine fall on all of them. ' +
    "\"tensorflow vs X\" = X's time / tensorflow's time (training: tensorflow's rate / X's rate); the CPU ratio in brackets compares CPU time per tick.",
  '',
  table(),
  '',
  `Measured ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC ` +
    `(${Math.round((Date.now() - started) / 1000)} s, ${rounds} rounds): ${cpu}, ${os.cpus().length} cores shared with other work ` +
    `(1-minute load average ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end), Node.js ${process.versions.node}, TensorFlow.js ${tf.version.tfjs}` +
    `${native?.detail ? `, ${native.detail}` : ''}. Graphs: ${NEIGHBOURS} nearest neighbours per node, symmetrised ` +
    `(mean degree ${sizes.map((n) => `${meanDegree(randomGraph(n, createRng(SEED + n))).toFixed(1)} at ${n}`).join(', ')}).`,
  ...runs.filter((r) => r.unavailable).map((r) => `\n${r.backend} was not measured: ${r.unavailable}`),
].join('\n');

process.stdout.write(`${report}\n`);

if (args.write) {
  const file = args.write;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const section = `${BEGIN}\n${report}\n${END}`;
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next =
    begin >= 0 && end > begin
      ? current.slice(0, begin) + section + current.slice(end + END.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  progress(`wrote the table into ${file}`);
}
