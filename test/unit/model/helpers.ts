import type { ModelConfig } from '../../../model/config.ts';
import { resolveModelConfig } from '../../../model/config.ts';
import { Detector } from '../../../model/detector.ts';
import { topologyHash, type ClusterGraph } from '../../../model/graph.ts';
import { DETECTOR_FORMAT } from '../../../model/metadata.ts';
import { DetectorNetwork } from '../../../model/network.ts';
import type { Series } from '../../../sources/series.ts';
import { createRng } from '../../../common/random.ts';

/** A model small enough for unit tests to run in milliseconds. */
export function tinyConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return resolveModelConfig({
    modalities: ['temperature', 'humidity'],
    window: 6,
    temporalHidden: 8,
    embedding: 3,
    gatHeads: 2,
    gatHeadSize: 4,
    gruUnits: 5,
    gruLayers: 2,
    decoderHidden: 8,
    headHidden: 6,
    ...overrides,
  });
}

/** A detector with freshly initialised (untrained) weights from `seed`, for the cluster `graph`. */
export function untrainedDetector(
  config: ModelConfig,
  graph: ClusterGraph,
  options: { seed?: number; threshold?: number } = {},
): Detector {
  return new Detector(new DetectorNetwork(config, options.seed ?? 2), {
    format: DETECTOR_FORMAT,
    config,
    threshold: options.threshold ?? 0.5,
    graph,
    topologyHash: topologyHash(graph),
  });
}

/** A path graph n0 — n1 — … */
export function pathGraph(n: number): ClusterGraph {
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
  return { nodes, adjacency: nodes.map((_, i) => nodes.map((__, j) => (Math.abs(i - j) === 1 ? 1 : 0))) };
}

/** A z-normalized-looking random walk series. */
export function randomSeries(nodes: string[], modalities: string[], steps: number, seed: number): Series {
  const rng = createRng(seed);
  const data = new Float32Array(steps * nodes.length * modalities.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i / 7) + 0.3 * rng.normal();
  return { nodes: [...nodes], modalities: [...modalities], steps, data };
}
