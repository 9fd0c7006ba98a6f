/**
 * Measurements of a saved model on persistent faults, with the model's own
 * scoreSeries (the live-path evaluation is `wsn-watch eval` / backtest):
 *
 * - `real`: IBRL with every mote (mote 18 included), paper alignment; for the
 *   mote that departs most from its neighbours' median temperature in the
 *   test part, when it departs > 5 °C, when its score first reaches the
 *   model's threshold, and whether it stays there; the share of clean
 *   node-ticks at or above the threshold.
 * - `injected`: faults of every catalogue kind injected into held-out data
 *   (the IBRL test part, or the synthetic network's steps after its training
 *   range), event recall per kind, median ticks to detect, share of the fault's
 *   ticks scored above the threshold, localization, clean node-ticks above.
 *
 *   npx tsx model/eval/fault-check.ts --model models/ibrl --ibrl ../shared/data/ibrl
 *   npx tsx model/eval/fault-check.ts --model models/default --synthetic 12,2000,1
 */
import { parseArgs } from 'node:util';
import { createRng } from '../../common/random.ts';
import { loadIbrl, readIbrlPositions } from '../../sources/ibrl.ts';
import {
  FAULT_CATALOGUE,
  drawFault,
  faultLabelSpan,
  injectAnomaly,
  type FaultKind,
  type Injection,
} from '../../sources/inject.ts';
import { computeStats, modalityRange } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';
import { generateSyntheticNetwork } from '../../sources/synthetic.ts';
import { knnGraph } from '../../topology/adjacency.ts';
import type { Detector } from '../detector.ts';
import type { ClusterGraph } from '../graph.ts';
import { loadDetector } from '../io.ts';
import { selectNodes } from './clustered.ts';
import { median } from '../../common/median.ts';

/** The series z-normalized as the live detector does it (training statistics; pooled ones for unknown nodes). */
export function normalizeLikeLive(detector: Detector, raw: Series): Series {
  const nm = raw.nodes.length * raw.modalities.length;
  const data = new Float32Array(raw.data.length);
  for (let t = 0; t < raw.steps; t++)
    data.set(detector.normalizeValues(raw.nodes, raw.data.subarray(t * nm, (t + 1) * nm)), t * nm);
  return { ...raw, data };
}

function neighbours(graph: ClusterGraph, i: number): number[] {
  return graph.adjacency[i].map((v, j) => (v > 0 && j !== i ? j : -1)).filter((j) => j >= 0);
}

interface Progress {
  (message: string): void;
}

/** What both checks run on: the model, the graph of the series' nodes, the first held-out step, where to report. */
export interface FaultCheck {
  detector: Detector;
  graph: ClusterGraph;
  from: number;
  log: Progress;
}

/** The real failure: the test-part mote furthest above its neighbours' median temperature. */
export async function checkRealFailure(check: FaultCheck, raw: Series, secondsPerStep: number): Promise<void> {
  const { detector, graph, from, log } = check;
  const n = raw.nodes.length;
  const m = raw.modalities.length;
  const temperature = raw.modalities.indexOf('temperature');
  const deviation = (t: number, i: number): number =>
    raw.data[(t * n + i) * m + temperature] -
    median(neighbours(graph, i).map((j) => raw.data[(t * n + j) * m + temperature]));
  let worst = { node: -1, ticks: 0 };
  for (let i = 0; i < n; i++) {
    let ticks = 0;
    for (let t = from; t < raw.steps; t++) if (deviation(t, i) > 5) ticks++;
    if (ticks > worst.ticks) worst = { node: i, ticks };
  }
  const i = worst.node;
  // Departure: the first step from which the mote stays > 5 °C above for at least an hour of steps.
  const hour = Math.round(3600 / secondsPerStep);
  let departed = -1;
  for (let t = from; t < raw.steps && departed < 0; t++) {
    let run = 0;
    while (t + run < raw.steps && deviation(t + run, i) > 5) run++;
    if (run >= Math.min(hour, raw.steps - t)) departed = t;
  }
  log(
    `real failure: mote ${raw.nodes[i]} is > 5 °C above its neighbours' median (${neighbours(graph, i)
      .map((j) => raw.nodes[j])
      .join(
        ', ',
      )}) at ${worst.ticks} test steps; departs at step ${departed} (${raw.steps - departed} steps = ${(((raw.steps - departed) * secondsPerStep) / 3600).toFixed(1)} h before the end)`,
  );
  const series = normalizeLikeLive(detector, raw);
  const scores = await detector.withGraph(graph).scoreSeries(series, from, raw.steps);
  const score = (t: number, node: number): number => scores.node[(t - from) * n + node];
  const threshold = detector.threshold;
  let first = -1;
  for (let t = departed; t < raw.steps && first < 0; t++) if (score(t, i) >= threshold) first = t;
  let below = 0;
  let lastBelow = -1;
  for (let t = Math.max(first, departed); first >= 0 && t < raw.steps; t++) {
    if (score(t, i) < threshold) {
      below++;
      lastBelow = t;
    }
  }
  const trace: string[] = [];
  for (let t = departed - 2 * hour; t < raw.steps; t += hour)
    if (t >= from) trace.push(`${t}: ${deviation(t, i).toFixed(1)} °C → ${score(t, i).toFixed(3)}`);
  log(`  threshold ${threshold.toFixed(4)}; hourly (step: departure → score): ${trace.join('; ')}`);
  let early = 0;
  for (let t = from; t < departed - hour; t++) if (score(t, i) >= threshold) early++;
  log(
    `  before departing (test steps ${from}..${departed - hour}): ${early} of ${Math.max(0, departed - hour - from)} steps at or above the threshold`,
  );
  if (first < 0) log('  never reaches the threshold');
  else {
    log(
      `  first at or above the threshold at step ${first}: ${first - departed} steps (${(((first - departed) * secondsPerStep) / 60).toFixed(0)} min) after departing`,
    );
    log(
      `  from then to the end: ${raw.steps - first - below} of ${raw.steps - first} steps at or above, ${below} below${lastBelow >= 0 ? ` (last below at step ${lastBelow})` : ''}`,
    );
  }
  logCleanMotes(raw, i, from, threshold, score, log);
}

/** Clean motes: every mote but the failing one, every test step; the five most often above the threshold. */
function logCleanMotes(
  raw: Series,
  failing: number,
  from: number,
  threshold: number,
  score: (t: number, node: number) => number,
  log: Progress,
): void {
  let above = 0;
  let total = 0;
  const perNode: Array<{ node: string; share: number }> = [];
  for (let j = 0; j < raw.nodes.length; j++) {
    if (j === failing) continue;
    let mine = 0;
    for (let t = from; t < raw.steps; t++) if (score(t, j) >= threshold) mine++;
    above += mine;
    total += raw.steps - from;
    perNode.push({ node: raw.nodes[j], share: mine / (raw.steps - from) });
  }
  perNode.sort((a, b) => b.share - a.share);
  log(
    `  clean motes: ${above} of ${total} node-steps at or above the threshold (${((100 * above) / total).toFixed(2)} %); most: ${perNode
      .slice(0, 5)
      .map((p) => `${p.node} ${(100 * p.share).toFixed(1)} %`)
      .join(', ')}`,
  );
}

interface KindResult {
  events: number;
  detected: number;
  localized: number;
  delays: number[];
  coverage: number[];
}

type PlacedFault = { injection: Injection; label: { start: number; end: number } };

/**
 * One faulty copy of the series: each spec on a node not used and not next to
 * a used one (50 tries), a random matching modality and a start inside [from + w, steps - w).
 */
function injectCopy(
  series: Series,
  specs: typeof FAULT_CATALOGUE,
  graph: ClusterGraph,
  rng: ReturnType<typeof createRng>,
  zStats: ReturnType<typeof computeStats>,
  from: number,
  w: number,
): { faulty: Series; faults: PlacedFault[] } {
  const n = series.nodes.length;
  const m = series.modalities.length;
  let faulty = series;
  const faults: PlacedFault[] = [];
  const used = new Set<number>();
  for (const spec of specs) {
    const modalities = series.modalities
      .map((name, j) => (!spec.modality || spec.modality.test(name) ? j : -1))
      .filter((j) => j >= 0);
    if (modalities.length === 0) continue;
    let node = rng.int(n);
    for (let tries = 0; tries < 50 && (used.has(node) || neighbours(graph, node).some((j) => used.has(j))); tries++)
      node = rng.int(n);
    used.add(node);
    const modality = modalities[rng.int(modalities.length)];
    const std = zStats.std[node * m + modality] || 1;
    const room = series.steps - from - 2 * w;
    const injection = drawFault(
      spec,
      rng,
      { node, modality, start: 0 },
      std,
      modalityRange(zStats, modality),
      Math.floor(room / 2),
    );
    injection.start = from + w + rng.int(Math.max(1, room - injection.length));
    const before = faulty;
    faulty = injectAnomaly(faulty, injection, zStats);
    faults.push({ injection, label: faultLabelSpan(injection, before, faulty, std) });
  }
  return { faulty, faults };
}

/** The per-kind recall table, in Markdown. */
function logKindTable(results: Map<FaultKind, KindResult>, threshold: number, w: number, log: Progress): void {
  log(
    `injected faults, threshold ${threshold.toFixed(4)} (score of the faulty node at or above it within the fault or ${w} ticks after):`,
  );
  log('| kind | events | recall | median ticks to detect | median share of fault ticks above | localization |');
  log('| --- | --- | --- | --- | --- | --- |');
  for (const [kind, r] of results) {
    log(
      `| ${kind} | ${r.events} | ${(r.detected / r.events).toFixed(2)} | ${r.delays.length ? median(r.delays) : '-'} | ${r.coverage.length ? median(r.coverage).toFixed(2) : '-'} | ${r.detected ? (r.localized / r.detected).toFixed(2) : '-'} |`,
    );
  }
}

/**
 * Injects `perKind` faults of every catalogue kind (z-units of the model's
 * normalization) into steps [from, to) of a normalized series, a few at a time
 * on far-apart nodes, scores each copy and reports recall per kind.
 */
export async function checkInjected(check: FaultCheck, series: Series, perKind: number, seed: number): Promise<void> {
  const { detector, graph, from, log } = check;
  const n = series.nodes.length;
  const w = detector.config.window;
  const rng = createRng(seed);
  const zStats = computeStats(series, { to: from });
  const threshold = detector.threshold;
  const scorer = detector.withGraph(graph);
  const results = new Map<FaultKind, KindResult>();
  let cleanAbove = 0;
  let cleanTotal = 0;
  // `perKind` faults of every kind, a few per copy on nodes that are not neighbours (about one node in five faulty),
  // so the neighbours' reference of a faulty node stays mostly healthy, as in a real network.
  const queue = Array.from({ length: perKind }, () => FAULT_CATALOGUE).flat();
  const perCopy = Math.max(1, Math.floor(n / 5));
  const copies = Math.ceil(queue.length / perCopy);
  for (let round = 0; round < copies; round++) {
    const specs = queue.slice(round * perCopy, (round + 1) * perCopy);
    const { faulty, faults } = injectCopy(series, specs, graph, rng, zStats, from, w);
    const scores = await scorer.scoreSeries(faulty, from, series.steps);
    const score = (t: number, node: number): number => scores.node[(t - from) * n + node];
    for (const { injection, label } of faults) {
      const result = results.get(injection.kind) ?? { events: 0, detected: 0, localized: 0, delays: [], coverage: [] };
      results.set(injection.kind, result);
      result.events++;
      if (label.end <= label.start) continue;
      let first = -1;
      let covered = 0;
      for (let t = label.start; t < Math.min(series.steps, label.end + w); t++) {
        if (score(t, injection.node) >= threshold) {
          if (first < 0) first = t;
          if (t < label.end) covered++;
        }
      }
      result.coverage.push(covered / (label.end - label.start));
      if (first < 0) continue;
      result.detected++;
      result.delays.push(first - label.start);
      // Localized: at the first detection the faulty node scores above every one of its neighbours.
      if (neighbours(graph, injection.node).every((j) => score(first, j) < score(first, injection.node)))
        result.localized++;
    }
    // Clean node-ticks of this copy: nodes with no fault at any time.
    const faultyNodes = new Set(faults.map((f) => f.injection.node));
    for (let j = 0; j < n; j++) {
      if (faultyNodes.has(j)) continue;
      for (let t = from; t < series.steps; t++) {
        cleanTotal++;
        if (score(t, j) >= threshold) cleanAbove++;
      }
    }
    log(`  copy ${round + 1}/${copies} scored (${faults.map((f) => f.injection.kind).join(', ')})`);
  }
  logKindTable(results, threshold, w, log);
  log(
    `clean node-ticks (nodes without a fault in the copy) at or above the threshold: ${cleanAbove} of ${cleanTotal} (${((100 * cleanAbove) / cleanTotal).toFixed(2)} %)`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      ibrl: { type: 'string' },
      synthetic: { type: 'string' },
      rounds: { type: 'string', default: '6' },
      seed: { type: 'string', default: '11' },
      knn: { type: 'string', default: '4' },
    },
  });
  if (!values.model || (!values.ibrl && !values.synthetic))
    throw new Error(
      'usage: fault-check.ts --model DIR (--ibrl DIR | --synthetic NODES,STEPS,SEED) [--rounds 6] [--seed 11]',
    );
  const log = (message: string): void => void process.stdout.write(`${message}\n`);
  const detector = await loadDetector(values.model);
  const rounds = Number(values.rounds);
  const seed = Number(values.seed);
  if (values.ibrl) {
    // Every mote with a position, mote 18 included (the paper leaves it out; its failure is the real one).
    const all = await loadIbrl(values.ibrl, { exclude: [] });
    const positions = await readIbrlPositions(values.ibrl);
    const keep = all.series.nodes.map((id, i) => (positions.has(id) ? i : -1)).filter((i) => i >= 0);
    const raw = selectNodes(all.series, keep);
    const graph = knnGraph(
      raw.nodes,
      raw.nodes.map((id) => [positions.get(id)!.x, positions.get(id)!.y] as const),
      Number(values.knn),
    );
    const from = Math.floor(raw.steps * 0.6);
    const secondsPerStep =
      raw.times && raw.times.length > 1
        ? ((raw.times[raw.times.length - 1] - raw.times[0]) / (raw.times.length - 1)) * 31
        : 90;
    log(
      `IBRL, ${raw.nodes.length} motes, test part steps ${from}..${raw.steps} (${secondsPerStep.toFixed(0)} s per step)`,
    );
    await checkRealFailure({ detector, graph, from, log }, raw, secondsPerStep);
    // Injected faults on the paper's 51 motes' test part (without the failing mote).
    const paper = await loadIbrl(values.ibrl);
    const paperGraph = knnGraph(
      paper.series.nodes,
      paper.series.nodes.map((id) => [positions.get(id)!.x, positions.get(id)!.y] as const),
      Number(values.knn),
    );
    await checkInjected(
      { detector, graph: paperGraph, from, log },
      normalizeLikeLive(detector, paper.series),
      rounds,
      seed,
    );
  } else {
    const [nodes, steps, networkSeed] = String(values.synthetic).split(',').map(Number);
    // The training network continued past its training range: the first `steps` steps are the ones it was trained on.
    const network = generateSyntheticNetwork({ nodes, steps: 2 * steps, seed: networkSeed, neighbours: 4 });
    log(`synthetic network ${nodes} nodes, seed ${networkSeed}; held-out steps ${steps}..${2 * steps}`);
    await checkInjected(
      { detector, graph: network.graph, from: steps, log },
      normalizeLikeLive(detector, network.series),
      rounds,
      seed,
    );
  }
  detector.dispose();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
