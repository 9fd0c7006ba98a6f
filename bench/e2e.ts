/**
 * End to end on the real services (`wsn-watch services up`): `simulate`
 * (live, --speed 1) → `ingest` → `detect` → InfluxDB, each a process of the
 * real CLI on topics, groups and an InfluxDB database of this run's own. After
 * a warm-up of `--warmup` ticks it measures, over the next `--ticks`: readings
 * accepted by ingest per second, CPU ms per 1,000 readings of ingest and of the
 * detector (/proc/<pid>/stat), their peak RSS, and p50/p99 of tick close →
 * score from the detector's histogram (bucket upper bounds), and whether
 * the pipeline keeps up: the ingest group's lag on the readings topic and the
 * detector's event-time lag at the start and the end of the measurement.
 * It also says how many readings ingest rejected meanwhile (a simulated
 * network that ingest refuses in part is not the load it claims), how the
 * detector's CPU splits between its main thread and its other threads, and
 * from the detector's counters its seconds in batches, model calls and
 * checkpoints, and the frames it skipped as already scored (a redelivery).
 * Then, in the same run, the ceilings of this machine: raw kafkajs consume +
 * JSON.parse of the run's readings topic, and InfluxDB writes of node-tick
 * points (5,000 per request, 4 in flight, as the detector writes them).
 * Prints markdown rows.
 *
 *   node --import tsx bench/e2e.ts --nodes 1000 --tick-ms 5000 --ticks 12 --lateness-ms 0 [--detectors K]
 *
 * `--detectors K` runs K detector replicas in one consumer group (the scale-out a network of this size would use):
 * their CPU, batch seconds and latency histograms are summed, the event lag is the largest, and the peak RSS is
 * given per replica.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.ts';
import { FRAME_PARTITIONS } from '../common/constants.ts';
import { writeSimulatedTopology } from '../sources/simulate.ts';
import { kafkaConnection, TopologyPublisher } from '../topology/kafka.ts';
import { createLogger } from '../common/log.ts';
import { InfluxSink } from '../store/influx-sink.ts';
import { DEFAULT_MAX_CLUSTERS_PER_CALL } from '../model/index.ts';
import { freePort } from '../ops/net.ts';
import { Kafka, logLevel } from 'kafkajs';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    ticks: { type: 'string', default: '8' },
    // The detector scores a cluster once its model window (20 ticks) is full: warm up past it.
    warmup: { type: 'string', default: '22' },
    'tick-ms': { type: 'string' },
    'lateness-ms': { type: 'string', default: '0' },
    // A folder for V8 CPU profiles of the simulate, ingest and detect processes (written when they stop).
    profile: { type: 'string' },
    // Detector replicas in one consumer group (at most the frames topic's partitions).
    detectors: { type: 'string', default: '1' },
  },
});
const nodes = Number(args.nodes);
const ticks = Number(args.ticks);
const warmup = Number(args.warmup);
const detectors = Number(args.detectors);
if (!(Number.isInteger(detectors) && detectors >= 1 && detectors <= FRAME_PARTITIONS))
  throw new Error(`--detectors: expected an integer from 1 to ${FRAME_PARTITIONS}, got '${args.detectors}'`);
const config = loadConfig({ env: process.env });
const tickMs = args['tick-ms'] === undefined ? config.ingest.tickMs : Number(args['tick-ms']);
const id = randomUUID().slice(0, 8);
const work = mkdtempSync(join(tmpdir(), 'wsn-bench-e2e-'));
const topologyFile = join(work, 'nodes.txt');
writeSimulatedTopology(topologyFile, { nodes, seed: 1 });
const say = (message: string): void => void process.stderr.write(`bench e2e: ${message}\n`);

const env = {
  ...process.env,
  WSN_TICK_MS: String(tickMs),
  WSN_NETWORK: `bench-${id}`,
  WSN_ALLOWED_LATENESS_MS: String(args['lateness-ms']),
  WSN_STATE_DIR: work,
  WSN_INFLUX_DATABASE: `bench_${id}`,
};
const topics = {
  readings: `bench.readings.${id}`,
  frames: `bench.frames.${id}`,
  dlq: `bench.dlq.${id}`,
  anomalies: `bench.anomalies.${id}`,
  alerts: `bench.alerts.${id}`,
  state: `bench.state.${id}`,
};
const children: ChildProcess[] = [];
/** Waits for the processes to exit; those still running after `timeoutMs` are killed. */
async function stopped(processes: readonly ChildProcess[], timeoutMs: number): Promise<void> {
  const running = processes.filter((child) => child.exitCode === null && child.signalCode === null);
  const exits = running.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  const timer = setTimeout(() => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  }, timeoutMs);
  await Promise.all(exits);
  clearTimeout(timer);
}
function cli(name: string, argv: string[]): ChildProcess {
  const profile = args.profile
    ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];
  const child = spawn(process.execPath, [...profile, 'bin/wsn-watch.mjs', ...argv], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => void (tail = (tail + chunk.toString()).slice(-2_000)));
  child.on('exit', (code) => code !== 0 && code !== null && say(`${name} exited ${code}: ${tail}`));
  children.push(child);
  return child;
}

/** utime + stime of a /proc stat file, ms (clock ticks of 1/100 s). */
function statCpuMs(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
const cpuMs = (pid: number): number => statCpuMs(`/proc/${pid}/stat`);
/** CPU ms of a process's main thread (its thread id is the process id) and of all its other threads together. */
function threadCpuMs(pid: number): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let ms: number;
    try {
      ms = statCpuMs(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      continue; // the thread ended meanwhile
    }
    if (Number(tid) === pid) main += ms;
    else others += ms;
  }
  return { main, others };
}
const peakRssMb = (pid: number): number =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/**
 * The lines of a process's /metrics that start with `name`. Retried: a process busy in a long batch closes an idle
 * kept-alive connection late, just as the next request goes out on it (ECONNRESET), which ended a 100,000-node run.
 */
async function metric(port: number, name: string): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text.split('\n').filter((line) => line.startsWith(name));
    } catch (error) {
      if (attempt >= 5) throw error;
      await sleep(500);
    }
  }
}
/** The sum of a metric's series, only those whose line holds `label` when given (`outcome="skipped"`). */
async function counter(port: number, name: string, label = ''): Promise<number> {
  return (await metric(port, name))
    .filter((line) => line.includes(label))
    .reduce((n, line) => n + Number(line.split(' ').pop()), 0);
}
/** The detector's scoring rounds so far and the clusters they scored (wsn_detector_model_batch_clusters). */
async function modelCalls(port: number): Promise<{ calls: number; clusters: number }> {
  return {
    calls: await counter(port, 'wsn_detector_model_batch_clusters_count'),
    clusters: await counter(port, 'wsn_detector_model_batch_clusters_sum'),
  };
}

/**
 * Where the detector's time went and whether it replayed frames, from its own counters: frames skipped as already
 * scored come from a redelivery (a failed batch, or a consumer that left its group and rejoined).
 */
async function detectorWork(port: number): Promise<Record<string, number>> {
  return {
    skipped: await counter(port, 'wsn_detector_frames_total', 'outcome="skipped"'),
    failedBatches: await counter(port, 'wsn_detector_batch_failures_total'),
    restores: await counter(port, 'wsn_detector_state_restores_total'),
    batchS: await counter(port, 'wsn_detector_batch_seconds_sum'),
    modelS: await counter(port, 'wsn_detector_model_seconds_sum'),
    checkpointS: await counter(port, 'wsn_detector_checkpoint_seconds_sum'),
    sinkS: await counter(port, 'wsn_detector_sink_write_seconds_sum'),
    checkpoints: await counter(port, 'wsn_detector_checkpoint_writes_total'),
    handOvers: await counter(port, 'wsn_detector_hand_over_frames_count'),
    handOverFrames: await counter(port, 'wsn_detector_hand_over_frames_sum'),
    handOverS: await counter(port, 'wsn_detector_hand_over_seconds_sum'),
    gatherAgain: await counter(port, 'wsn_detector_tick_gather_total', 'outcome="again"'),
    gatherTaken: await counter(port, 'wsn_detector_tick_gather_total', 'outcome="taken"'),
    gatherIncomplete: await counter(port, 'wsn_detector_tick_gather_total', 'outcome="incomplete"'),
  };
}

/** Quantile from cumulative histogram buckets, counted since `base` (upper bound of the bucket it falls in). */
function quantile(buckets: Map<string, number>, q: number, base: Map<string, number>): string {
  const counts = [...buckets].map(([le, count]) => ({ le, count: count - (base.get(le) ?? 0) }));
  const total = counts.find((b) => b.le === '+Inf')?.count ?? 0;
  if (total === 0) return 'n/a';
  return `≤ ${counts.find((b) => b.count >= q * total)!.le} s`;
}
/** A histogram's cumulative bucket counts (by `le`), summed over the processes on `ports`; `label`: only its series. */
async function buckets(ports: readonly number[], name: string, label?: string): Promise<Map<string, number>> {
  const sum = new Map<string, number>();
  for (const port of ports)
    for (const line of await metric(port, name)) {
      if (!line.includes('_bucket') || (label !== undefined && !line.includes(label))) continue;
      const le = /le="([^"]+)"/.exec(line)![1];
      sum.set(le, (sum.get(le) ?? 0) + Number(line.split(' ').pop()));
    }
  return sum;
}
/** The stages of tick close → score (wsn_detector_latency_stage_seconds). */
const STAGES = ['ingest', 'queue', 'hand-over'] as const;
/** Each stage's buckets, summed over the detector replicas, in STAGES order. */
function stageBuckets(detectPorts: readonly number[]): Promise<Array<Map<string, number>>> {
  return Promise.all(
    STAGES.map((stage) => buckets(detectPorts, 'wsn_detector_latency_stage_seconds', `stage="${stage}"`)),
  );
}
/** Sums a per-port reading over the ports. */
async function summed<T extends Record<string, number>>(
  ports: readonly number[],
  read: (port: number) => Promise<T>,
): Promise<T> {
  const total: Record<string, number> = {};
  for (const port of ports)
    for (const [key, value] of Object.entries(await read(port))) total[key] = (total[key] ?? 0) + value;
  return total as T;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const benchCpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const admin = new Kafka({
  brokers: config.kafka.brokers,
  clientId: 'wsn-bench-e2e',
  logLevel: logLevel.NOTHING,
}).admin();

/** Messages of `topic` not yet committed by `groupId`. */
async function groupLag(groupId: string, topic: string): Promise<number> {
  // The committed offsets first: read at the same time, a commit landing between the two reads made the lag negative.
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  let lag = 0;
  for (const end of ends) {
    const at = Number(committed.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
    lag += Number(end.high) - Math.max(at, Number(end.low));
  }
  return lag;
}

/** The ceiling of consume + parse: the readings topic read from its start by kafkajs alone, 1 MiB fetches. */
async function consumeCeiling(topic: string, messages: number): Promise<{ perWall: number; perCpu: number }> {
  const consumer = new Kafka({
    brokers: config.kafka.brokers,
    clientId: 'wsn-bench-ceiling',
    logLevel: logLevel.NOTHING,
  }).consumer({ groupId: `bench-ceiling-${id}`, maxBytesPerPartition: 1 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let read = 0;
  const began = { wall: performance.now(), cpu: benchCpuMs() };
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) JSON.parse(message.value!.toString());
      read += batch.messages.length;
      if (read >= messages) done();
    },
  });
  await finished;
  const wall = (performance.now() - began.wall) / 1000;
  const cpu = (benchCpuMs() - began.cpu) / 1000;
  await consumer.disconnect();
  return { perWall: read / wall, perCpu: read / cpu };
}

/** The ceiling of InfluxDB: node-tick points (4 readings, the verdict fields) written as the detector writes them. */
async function influxCeiling(points: number): Promise<number> {
  const sink = new InfluxSink({ url: config.influx.url, database: env.WSN_INFLUX_DATABASE, retries: 2 });
  const tick0 = Date.UTC(2020, 0, 1);
  const batch = Array.from({ length: points }, (_, i) => ({
    measurement: 'ceiling',
    tags: { network: 'ceiling', cluster: `c${Math.floor(i / 64) % 1_000}`, node: `${i % 64_000}` },
    fields: {
      value_temperature: 20 + (i % 7),
      value_humidity: 40 + (i % 5),
      value_light: 300 + (i % 11),
      value_voltage: 2.7,
      probability: 0.01,
      score: 0.2,
      is_anomaly: false,
      cluster_probability: 0.02,
    },
    timestamp: tick0 + Math.floor(i / 64_000) * 31_000,
  }));
  const began = performance.now();
  await sink.writePoints(batch);
  return points / ((performance.now() - began) / 1000);
}

/** Runs a CLI command to its end; throws with the end of its stderr if it fails. */
async function cliToEnd(name: string, argv: string[]): Promise<void> {
  const child = cli(name, argv);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${name} exited ${code}`);
}

try {
  // The detectors follow the network's topology from wsn.topology, as those of a connected network do (without it
  // they fall back to the model's training graph, which knows none of these nodes: no edges at all).
  say(`publishing the topology of network ${env.WSN_NETWORK}`);
  await cliToEnd('topology', ['topology', 'publish', topologyFile]);
  const ingestPort = await freePort();
  const detectPorts: number[] = [];
  for (let k = 0; k < detectors; k++) detectPorts.push(await freePort());
  const ingest = cli('ingest', [
    'ingest',
    '--topology',
    topologyFile,
    '--http-port',
    String(ingestPort),
    '--group',
    `bench-ingest-${id}`,
    '--readings-topic',
    topics.readings,
    '--frames-topic',
    topics.frames,
    '--dlq-topic',
    topics.dlq,
    '--no-influx',
  ]);
  const detects = detectPorts.map((detectPort, k) =>
    cli(k === 0 ? 'detect' : `detect-${k + 1}`, [
      'detect',
      '--http-port',
      String(detectPort),
      '--group',
      `bench-detect-${id}`,
      '--frames-topic',
      topics.frames,
      '--anomalies-topic',
      topics.anomalies,
      '--alerts-topic',
      topics.alerts,
      '--state-topic',
      topics.state,
      '--no-alertmanager',
    ]),
  );
  /** CPU ms of the detector replicas together. */
  const detectCpuMs = (): number => detects.reduce((sum, detect) => sum + cpuMs(detect.pid!), 0);
  /** Main and other threads' CPU ms, summed over the detector replicas. */
  const detectThreads = (): { main: number; others: number } =>
    detects.reduce(
      (sum, detect) => {
        const threads = threadCpuMs(detect.pid!);
        return { main: sum.main + threads.main, others: sum.others + threads.others };
      },
      { main: 0, others: 0 },
    );
  /** Frames each replica has handled so far (how the group shared the work). */
  const framesPerReplica = (): Promise<number[]> =>
    Promise.all(detectPorts.map((port) => counter(port, 'wsn_detector_frames_total')));
  /** The detectors' event-time lag: the replica furthest behind. */
  const eventLagS = async (): Promise<number> =>
    Math.max(...(await Promise.all(detectPorts.map((port) => counter(port, 'wsn_detector_event_lag_seconds')))));
  for (const [name, port] of [
    ['ingest', ingestPort] as const,
    ...detectPorts.map((port, k) => [`detect ${k + 1}`, port] as const),
  ]) {
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (i > 600) throw new Error(`${name} not ready after 300 s`);
      await sleep(500);
    }
    say(`${name} ready`);
  }
  cli('simulate', [
    'simulate',
    '--nodes',
    String(nodes),
    '--speed',
    '1',
    '--tick-ms',
    String(tickMs),
    '--ticks',
    String(warmup + ticks + 3),
    '--topic',
    topics.readings,
  ]);
  say(`simulating ${nodes} nodes live; warm-up ${warmup} ticks of ${tickMs / 1000} s`);
  await sleep(warmup * tickMs);
  const start = {
    at: Date.now(),
    ingestCpu: cpuMs(ingest.pid!),
    detectCpu: detectCpuMs(),
    accepted: await counter(ingestPort, 'wsn_ingest_accepted_total'),
    rejected: await counter(ingestPort, 'wsn_ingest_rejected_total'),
    detectThreads: detectThreads(),
    hist: await buckets(detectPorts, 'wsn_detector_tick_close_to_score_seconds'),
    stages: await stageBuckets(detectPorts),
    ...(await summed(detectPorts, modelCalls)),
    work: await summed(detectPorts, detectorWork),
    framesPerReplica: await framesPerReplica(),
  };
  await admin.connect();
  const lagAtStart = {
    ingest: await groupLag(`bench-ingest-${id}`, topics.readings),
    detectorEventLagS: await eventLagS(),
  };
  for (let k = 1; k <= ticks; k++) {
    await sleep(tickMs);
    say(
      `tick ${k}/${ticks}: ${(await counter(ingestPort, 'wsn_ingest_accepted_total')) - start.accepted} readings accepted`,
    );
  }
  const seconds = (Date.now() - start.at) / 1000;
  const readings = (await counter(ingestPort, 'wsn_ingest_accepted_total')) - start.accepted;
  const ingestCpu = cpuMs(ingest.pid!) - start.ingestCpu;
  const detectCpu = detectCpuMs() - start.detectCpu;
  const rejected = (await counter(ingestPort, 'wsn_ingest_rejected_total')) - start.rejected;
  const threadsAtEnd = detectThreads();
  const hist = await buckets(detectPorts, 'wsn_detector_tick_close_to_score_seconds');
  const stages = await stageBuckets(detectPorts);
  const calls = await summed(detectPorts, modelCalls);
  const work = await summed(detectPorts, detectorWork);
  const framesAtEnd = await framesPerReplica();
  const lagAtEnd = {
    ingest: await groupLag(`bench-ingest-${id}`, topics.readings),
    detectorEventLagS: await eventLagS(),
  };
  console.log(
    '| nodes | tick ms | lateness ms | measured s | readings | readings/s | ingest CPU ms / 1,000 readings | detect CPU ms / 1,000 readings | ingest peak RSS MB | detect peak RSS MB | tick close → score p50 | p99 |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(
    `| ${nodes} | ${tickMs} | ${args['lateness-ms']} | ${seconds.toFixed(0)} | ${readings} | ${(readings / seconds).toFixed(0)} | ${((ingestCpu * 1000) / readings).toFixed(1)} | ${((detectCpu * 1000) / readings).toFixed(1)} | ${peakRssMb(ingest.pid!).toFixed(0)} | ${detects.map((detect) => peakRssMb(detect.pid!).toFixed(0)).join(' / ')} | ${quantile(hist, 0.5, start.hist)} | ${quantile(hist, 0.99, start.hist)} |`,
  );
  console.log('');
  console.log(
    '| ingest lag at start → end (readings) | detector event lag at start → end (s) | ceiling: kafkajs consume + parse, msg/s (wall; per CPU-s) | ceiling: InfluxDB node-tick points/s (wall) |',
  );
  console.log('| ---: | ---: | ---: | ---: |');
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  const callsMeasured = calls.calls - start.calls;
  // Readings the simulator sent that ingest refused (the DLQ): a bench whose network is not the one it says.
  say(
    `ingest rejected ${rejected} readings in the measured span (${((100 * rejected) / Math.max(1, readings + rejected)).toFixed(1)} %)`,
  );
  say(
    `detector CPU: main thread ${((threadsAtEnd.main - start.detectThreads.main) / 1000).toFixed(1)} s, other threads (V8's workers, TensorFlow's, libuv's) ${((threadsAtEnd.others - start.detectThreads.others) / 1000).toFixed(1)} s`,
  );
  if (detectors > 1)
    say(
      `frames handled per detector replica in the measured span: ${framesAtEnd.map((n, k) => n - start.framesPerReplica[k]).join(' / ')}`,
    );
  say(
    `detector: ${callsMeasured} scoring rounds measured (native model calls of at most ${config.detector.modelClustersPerCall ?? DEFAULT_MAX_CLUSTERS_PER_CALL} clusters each), ${((calls.clusters - start.clusters) / Math.max(1, callsMeasured)).toFixed(1)} clusters per round`,
  );
  const worked = (key: string): number => work[key] - start.work[key];
  say(
    `detector in the measured span: ${worked('batchS').toFixed(1)} s in batches, ${worked('modelS').toFixed(1)} s in model calls, ${worked('sinkS').toFixed(1)} s waiting for the sinks (InfluxDB, wsn.anomalies), ${worked('checkpointS').toFixed(1)} s writing ${worked('checkpoints')} cluster checkpoints; ${worked('skipped')} frames skipped as already scored, ${worked('failedBatches')} failed batches, ${worked('restores')} clusters restored`,
  );
  say(
    `detector hand-overs in the measured span: ${worked('handOvers')}, ${(worked('handOverFrames') / Math.max(1, worked('handOvers'))).toFixed(1)} frames and ${(worked('handOverS') / Math.max(1, worked('handOvers'))).toFixed(2)} s each on average (${worked('handOverS').toFixed(1)} s in all); waits for the rest of a tick: ${worked('gatherAgain')} answered again, ${worked('gatherTaken')} took batches of another fetch, ${worked('gatherIncomplete')} went on without every frame`,
  );
  say(
    `tick close → score by stage, p50 / p99: ${STAGES.map((stage, k) => `${stage} ${quantile(stages[k], 0.5, start.stages[k])} / ${quantile(stages[k], 0.99, start.stages[k])}`).join('; ')} (ingest: to the frame's publication; queue: to its hand-over's start; hand-over: to its score)`,
  );
  const consume = await consumeCeiling(topics.readings, Math.min(readings, 300_000));
  const influxRate = await influxCeiling(200_000);
  console.log(
    `| ${lagAtStart.ingest} → ${lagAtEnd.ingest} | ${lagAtStart.detectorEventLagS.toFixed(0)} → ${lagAtEnd.detectorEventLagS.toFixed(0)} | ${consume.perWall.toFixed(0)} (${consume.perCpu.toFixed(0)}) | ${influxRate.toFixed(0)} |`,
  );
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  // A detector's graceful stop writes every pending checkpoint (about a minute at 100,000 nodes): its topics are
  // deleted only once it has exited, else its checkpoint sends wait for a topic that is gone.
  await stopped(children, 180_000);
  rmSync(work, { recursive: true, force: true });
  // Leave nothing behind on the shared services.
  await new InfluxSink({ url: config.influx.url, database: env.WSN_INFLUX_DATABASE, retries: 0 })
    .dropDatabase()
    .catch((error: Error) => say(`could not drop the InfluxDB database: ${error.message}`));
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  // The run's topology is on the shared topology topic: take it off (tombstones), or every follower of any network
  // reads past these records at its start, run after run.
  await retractTopology().catch((error: Error) => say(`could not retract the run's topology: ${error.message}`));
}

async function retractTopology(): Promise<void> {
  const publisher = new TopologyPublisher({
    ...kafkaConnection(config.kafka),
    network: env.WSN_NETWORK,
    logger: createLogger('bench', 'silent'),
  });
  await publisher.connect();
  try {
    say(`retracted the run's topology: ${await publisher.retract()} tombstones`);
  } finally {
    await publisher.disconnect();
  }
}
