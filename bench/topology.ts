/**
 * Benchmark of the topology module: builds the graph (k nearest neighbours,
 * k = 4) and clusters (max size 64, k-means) for 1,000, 10,000 and 100,000
 * random nodes, each size in its own child process so peak memory is that
 * size's own. Writes the table to docs/benchmarks.md between the topology
 * markers.
 *
 *   node --import tsx bench/topology.ts            # all sizes, updates the doc
 *   node --import tsx bench/topology.ts 1000 10000 # chosen sizes, prints only
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { buildNetwork } from '../topology/network.ts';
import { clusterNetwork } from '../topology/clustering.ts';
import { randomNodes } from '../topology/random-nodes.ts';

interface Row {
  nodes: number;
  edges: number;
  bridges: number;
  clusters: number;
  maxClusterSize: number;
  edgesMs: number;
  clusterMs: number;
  totalMs: number;
  /** User + system CPU time of the two steps: the work itself, whatever else runs on the machine. */
  cpuMs: number;
  /** CPU time of each step. */
  edgesCpuMs: number;
  clusterCpuMs: number;
  peakRssMb: number;
  heapUsedMb: number;
}

const MAX_SIZE = 64;
const SEED = 7;

function runChild(n: number): Row {
  const nodes = randomNodes(n, SEED);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const network = buildNetwork(nodes, { knn: 4 });
  const t1 = performance.now();
  const cpu1 = process.cpuUsage();
  const clustering = clusterNetwork(network, { maxSize: MAX_SIZE, seed: SEED });
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const clusterCpu = process.cpuUsage(cpu1);
  let bridges = 0;
  network.graph.forEachEdge((_e, a) => {
    if (a.bridge) bridges++;
  });
  return {
    nodes: n,
    edges: network.graph.size,
    bridges,
    clusters: clustering.clusters.size,
    maxClusterSize: Math.max(...[...clustering.clusters.values()].map((c) => c.members.size)),
    edgesMs: t1 - t0,
    clusterMs: t2 - t1,
    totalMs: t2 - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    edgesCpuMs: (cpu.user + cpu.system - clusterCpu.user - clusterCpu.system) / 1000,
    clusterCpuMs: (clusterCpu.user + clusterCpu.system) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    heapUsedMb: process.memoryUsage().heapUsed / 1024 / 1024,
  };
}

const BEGIN = '<!-- topology-bench:begin -->';
const END = '<!-- topology-bench:end -->';

function section(rows: Row[]): string {
  const fmtS = (ms: number): string => (ms / 1000).toFixed(2);
  const lines = [
    BEGIN,
    '## Topology: graph construction and clustering',
    '',
    'Command: `node --import tsx bench/topology.ts` (from the repository root).',
    '',
    `Random nodes, uniform at constant density (one per 100 square units), seed ${SEED}; edges by k nearest neighbours (k = 4) through a`,
    `uniform spatial grid, islands joined by minimum-spanning bridges; clusters by bounded k-means (max size ${MAX_SIZE},`,
    'k = ceil(n / 64 × 1.2); above k = 48 a coarse split into at most 16 groups first, ≤ 10 iterations; the final',
    'k-means ≤ 25 iterations). Each size runs in its own child process. Times are wall-clock (`performance.now()`);',
    'CPU is user + system time of the same steps (`process.cpuUsage()`), the work itself, much less sensitive to other load;',
    'peak RSS is `process.resourceUsage().maxRSS` of that process (including the Node.js runtime and tsx), heap is',
    '`process.memoryUsage().heapUsed` at the end.',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on a shared 2-core machine (${cpus().length} logical CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, Node.js ${process.version})`,
    `while other engineers were running their own work on it (load average ${loadavg()[0].toFixed(1)} when the run ended), so the`,
    'wall-clock times are an upper bound rather than a clean measurement.',
    '',
    '| nodes | edges | bridges | clusters | largest cluster | edges (s) | clustering (s) | total (s) | CPU (s) | edges CPU (s) | clustering CPU (s) | peak RSS (MB) | heap used (MB) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.nodes.toLocaleString('en-US')} | ${r.edges.toLocaleString('en-US')} | ${r.bridges} | ${r.clusters} | ${r.maxClusterSize} | ${fmtS(r.edgesMs)} | ${fmtS(r.clusterMs)} | ${fmtS(r.totalMs)} | ${fmtS(r.cpuMs)} | ${fmtS(r.edgesCpuMs)} | ${fmtS(r.clusterCpuMs)} | ${r.peakRssMb.toFixed(0)} | ${r.heapUsedMb.toFixed(0)} |`,
    ),
    '',
    END,
  ];
  return lines.join('\n');
}

function writeSection(rows: Row[]): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const file = resolve(root, 'docs/benchmarks.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = section(rows);
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${text.slice(0, start)}${block}${text.slice(end + END.length)}`
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
  return file;
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  process.stdout.write(`${JSON.stringify(runChild(Number(args[1])))}\n`);
} else {
  const sizes = args.length > 0 ? args.map(Number) : [1_000, 10_000, 100_000];
  const rows: Row[] = [];
  for (const n of sizes) {
    process.stderr.write(`bench topology: ${n.toLocaleString('en-US')} nodes …\n`);
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--child', String(n)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      throw new Error(`benchmark child for ${n} nodes failed (exit ${child.status})`);
    }
    const row = JSON.parse(child.stdout.trim().split('\n').pop()!) as Row;
    rows.push(row);
    process.stderr.write(
      `  edges ${(row.edgesMs / 1000).toFixed(2)} s, clustering ${(row.clusterMs / 1000).toFixed(2)} s, total ${(row.totalMs / 1000).toFixed(2)} s (CPU ${(row.cpuMs / 1000).toFixed(2)} s), peak RSS ${row.peakRssMb.toFixed(0)} MB\n`,
    );
  }
  if (args.length === 0) process.stderr.write(`bench topology: wrote ${writeSection(rows)}\n`);
  else process.stdout.write(`${section(rows)}\n`);
}
