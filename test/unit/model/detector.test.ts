import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../common/errors.ts';
import type { Detector } from '../../../model/detector.ts';
import { topologyHash, type ClusterGraph } from '../../../model/graph.ts';
import { loadDetector, saveDetector } from '../../../model/io.ts';
import { ensureBackend } from '../../../model/runtime.ts';
import type { ClusterState } from '../../../model/state.ts';
import { pathGraph, randomSeries, tinyConfig, untrainedDetector } from './helpers.ts';

const config = tinyConfig();
const m = config.modalities.length;
let dir: string;

function makeDetector(graph: ClusterGraph, seed = 3): Detector {
  return untrainedDetector(config, graph, { seed, threshold: 0.4 });
}

/** The values of step t of a series, node-major (N × M), as step() takes them. */
function tick(data: Float32Array, t: number, n: number): Float32Array {
  return data.slice(t * n * m, (t + 1) * n * m);
}

beforeAll(async () => {
  await ensureBackend();
  dir = await mkdtemp(path.join(tmpdir(), 'wsn-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Detector', () => {
  it('step() tick by tick gives what scoreSeries() gives on the same data', async () => {
    const graph = pathGraph(4);
    const detector = makeDetector(graph);
    const series = randomSeries(graph.nodes, config.modalities, 30, 1);
    const state = detector.createState(graph.nodes);
    const stepped: number[][] = [];
    for (let t = 0; t < series.steps; t++) {
      const [out] = await detector.step([{ state, values: tick(series.data, t, 4) }]);
      expect(out.ready).toBe(t >= config.window - 1);
      if (out.ready) stepped.push([out.cluster, ...out.node, ...out.reconstruction]);
    }
    const scores = await detector.scoreSeries(series, config.window - 1, series.steps);
    const scored = Array.from({ length: scores.to - scores.from }, (_, r) => [
      scores.cluster[r],
      ...scores.node.slice(r * 4, r * 4 + 4),
      ...scores.reconstruction.slice(r * 4 * m, (r + 1) * 4 * m),
    ]);
    expect(stepped.length).toBe(scored.length);
    stepped.forEach((row, r) => row.forEach((value, k) => expect(value).toBeCloseTo(scored[r][k], 4)));
  });

  it('scores only the requested rows and warms up before them', async () => {
    const graph = pathGraph(3);
    const detector = makeDetector(graph);
    const series = randomSeries(graph.nodes, config.modalities, 80, 2);
    const full = await detector.scoreSeries(series, config.window - 1, 80);
    detector.warmup = 200;
    const part = await detector.scoreSeries(series, 60, 70);
    expect(part.cluster.length).toBe(10);
    expect(part.node.length).toBe(30);
    for (let r = 0; r < 10; r++) expect(part.cluster[r]).toBeCloseTo(full.cluster[60 - full.from + r], 5);
    await expect(detector.scoreSeries(series, 2, 10)).rejects.toThrow(/from/);
  });

  it('batches clusters of different sizes in one step with the results of separate steps', async () => {
    const detector = makeDetector(pathGraph(5));
    const small = pathGraph(3);
    const large = pathGraph(5);
    const a = randomSeries(small.nodes, config.modalities, 10, 3);
    const b = randomSeries(large.nodes, config.modalities, 10, 4);
    const together = [detector.createState(small.nodes), detector.createState(large.nodes)];
    const apart = [detector.createState(small.nodes), detector.createState(large.nodes)];
    let last: number[][] = [];
    let lastApart: number[][] = [];
    for (let t = 0; t < 10; t++) {
      const outs = await detector.step([
        { state: together[0], values: tick(a.data, t, 3), adjacency: small.adjacency },
        { state: together[1], values: tick(b.data, t, 5), adjacency: large.adjacency },
      ]);
      const [x] = await detector.step([{ state: apart[0], values: tick(a.data, t, 3), adjacency: small.adjacency }]);
      const [y] = await detector.step([{ state: apart[1], values: tick(b.data, t, 5), adjacency: large.adjacency }]);
      last = outs.map((o) => [o.cluster, ...o.node]);
      lastApart = [x, y].map((o) => [o.cluster, ...o.node]);
    }
    expect(last[0].length).toBe(4);
    expect(last[1].length).toBe(6);
    last.forEach((row, i) => row.forEach((v, k) => expect(v).toBeCloseTo(lastApart[i][k], 5)));
  });

  it('scores many clusters in calls of at most maxClustersPerCall, with the results of one call', async () => {
    const graphs = [3, 5, 4, 5, 2].map((n) => pathGraph(n));
    const detector = makeDetector(pathGraph(5));
    const series = graphs.map((graph, i) => randomSeries(graph.nodes, config.modalities, 9, 10 + i));
    const chunked = graphs.map((graph) => detector.createState(graph.nodes));
    const whole = graphs.map((graph) => detector.createState(graph.nodes));
    const inputs = (states: ClusterState[], t: number) =>
      graphs.map((graph, i) => ({
        state: states[i],
        values: tick(series[i].data, t, graph.nodes.length),
        adjacency: graph.adjacency,
      }));
    const calls: number[] = [];
    const paddedTo: number[] = [];
    const step = detector.network.step.bind(detector.network);
    detector.network.step = (tensors) => {
      calls.push(tensors.nodeMask.shape[0]);
      paddedTo.push(tensors.nodeMask.shape[1]);
      return step(tensors);
    };
    let rows: number[][] = [];
    let wholeRows: number[][] = [];
    for (let t = 0; t < 9; t++) {
      detector.maxClustersPerCall = 2;
      rows = (await detector.step(inputs(chunked, t))).map((o) => [o.cluster, ...o.node, ...o.reconstruction]);
      detector.maxClustersPerCall = 100;
      wholeRows = (await detector.step(inputs(whole, t))).map((o) => [o.cluster, ...o.node, ...o.reconstruction]);
    }
    // Ready from tick 5 (window 6): four ticks of calls of 2, 2, 1 clusters, then one of 5; the largest clusters first,
    // so the calls of 2 pad to 5 and 4 nodes, not 5 and 5.
    expect(calls).toEqual(Array.from({ length: 4 }, () => [2, 2, 1, 5]).flat());
    expect(paddedTo).toEqual(Array.from({ length: 4 }, () => [5, 4, 2, 5]).flat());
    rows.forEach((row, i) => row.forEach((v, k) => expect(v).toBeCloseTo(wholeRows[i][k], 5)));
    chunked.forEach((state, i) => state.hidden.forEach((v, k) => expect(v).toBeCloseTo(whole[i].hidden[k], 5)));
  });

  it("keeps surviving nodes' windows and hidden state when nodes join and leave", async () => {
    const graph = pathGraph(3);
    const detector = makeDetector(graph);
    const series = randomSeries(graph.nodes, config.modalities, 12, 5);
    let state: ClusterState = detector.createState(graph.nodes);
    for (let t = 0; t < 12; t++) await detector.step([{ state, values: tick(series.data, t, 3) }]);
    const rowLength = m * config.window;
    const units = config.gruUnits;
    const windowOf = (s: ClusterState, i: number): number[] =>
      Array.from(s.windows.slice(i * rowLength, (i + 1) * rowLength));
    const hiddenOf = (s: ClusterState, i: number): number[] =>
      Array.from({ length: config.gruLayers }, (_, layer) =>
        Array.from(s.hidden.slice((layer * s.nodes.length + i) * units, (layer * s.nodes.length + i + 1) * units)),
      ).flat();
    // n1 leaves, x joins between n2 and n0.
    const resized = detector.resizeState(state, ['n2', 'x', 'n0']);
    expect(resized.nodes).toEqual(['n2', 'x', 'n0']);
    expect(windowOf(resized, 0)).toEqual(windowOf(state, 2));
    expect(windowOf(resized, 2)).toEqual(windowOf(state, 0));
    expect(hiddenOf(resized, 0)).toEqual(hiddenOf(state, 2));
    expect(hiddenOf(resized, 2)).toEqual(hiddenOf(state, 0));
    expect(windowOf(resized, 1).every((v) => v === 0)).toBe(true);
    expect(hiddenOf(resized, 1).every((v) => v === 0)).toBe(true);
    expect(hiddenOf(state, 0).some((v) => v !== 0)).toBe(true);
    // The resized cluster keeps scoring, on a graph the detector never saw.
    state = resized;
    const [out] = await detector.step([
      {
        state,
        values: new Float32Array(3 * m).fill(0.5),
        adjacency: [
          [0, 1, 0],
          [1, 0, 1],
          [0, 1, 0],
        ],
      },
    ]);
    expect(out.ready).toBe(true);
    expect(out.node.length).toBe(3);
    expect(out.cluster).toBeGreaterThan(0);
  });

  it('saves and loads to identical outputs and metadata', async () => {
    const graph = pathGraph(4);
    const detector = makeDetector(graph, 9);
    const series = randomSeries(graph.nodes, config.modalities, 40, 6);
    const out = path.join(dir, 'roundtrip');
    await saveDetector(detector, out);
    const loaded = await loadDetector(out);
    expect(loaded.threshold).toBe(0.4);
    expect(loaded.config).toEqual(config);
    expect(loaded.metadata.topologyHash).toBe(topologyHash(graph));
    const before = await detector.scoreSeries(series, config.window - 1, 40);
    const after = await loaded.scoreSeries(series, config.window - 1, 40);
    expect(Array.from(after.cluster)).toEqual(Array.from(before.cluster));
    expect(Array.from(after.reconstruction)).toEqual(Array.from(before.reconstruction));
  });

  it('refuses missing and corrupt model files with a UserError', async () => {
    await expect(loadDetector(path.join(dir, 'nothing-here'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const graph = pathGraph(3);
    const out = path.join(dir, 'corrupt');
    await saveDetector(makeDetector(graph), out);
    const weights = await readFile(path.join(out, 'weights.bin'));
    await writeFile(path.join(out, 'weights.bin'), weights.subarray(0, weights.length - 8));
    const truncated = await loadDetector(out).catch((e: unknown) => e);
    expect(truncated).toBeInstanceOf(UserError);
    expect((truncated as UserError).code).toBe('MODEL_CORRUPT');
    expect((truncated as UserError).message).toMatch(/bytes/);
    await writeFile(path.join(out, 'model.json'), '{"format": "wsn-watch-detector/1", "weightsMan');
    await expect(loadDetector(out)).rejects.toMatchObject({ code: 'MODEL_CORRUPT' });
    // A complete model of the previous format: refused as outdated, with the way to retrain.
    await writeFile(
      path.join(out, 'model.json'),
      JSON.stringify({ format: 'wsn-watch-detector/1', weightsManifest: [], metadata: {} }),
    );
    const outdated = await loadDetector(out).catch((e: unknown) => e);
    expect((outdated as UserError).code).toBe('MODEL_OUTDATED');
    expect((outdated as UserError).message).toMatch(/wsn-watch-detector\/1.*reads wsn-watch-detector\/2/);
    expect((outdated as UserError).hint).toMatch(/wsn-watch train/);
  });
});
