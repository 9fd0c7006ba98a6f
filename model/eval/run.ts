/**
 * The whole evaluation: for every seed its own injections (the same for all
 * scorers of that seed) and its own trained models; for every scorer the
 * paper's counts, localization and false alarms over the clean test stream.
 */
import { createRng } from '../../common/random.ts';
import { NeighbourMedianScorer } from '../baselines/neighbour-median.ts';
import { RollingZScoreScorer } from '../baselines/rolling-zscore.ts';
import { type ModalityStats, computeStats, normalizeSeries, selectStats } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';
import type { SeriesScorer } from '../scoring.ts';
import { calibrateOnTraining, thresholdOnTraining, withThreshold } from './calibrate.ts';
import type { CalibratedBaseline } from '../baselines/node-scores.ts';
import { ClusteredScorer, selectNodes } from './clustered.ts';
import { type FalseAlarms, falseAlarms, flaggedCleanByNode } from './false-alarms.ts';
import { type EvalGraph, type Positions, kmeansClusters, knnGraph, nearestNodeIndex } from './graph.ts';
import {
  AUTHORS_IBRL_RANGES,
  type InjectionStyle,
  injectedCases,
  kindCounts,
  planPaperInjections,
  withModalityRanges,
} from './paper-injections.ts';
import {
  type Counts,
  PAPER_PROTOCOL,
  type ProtocolOptions,
  bestF1Threshold,
  cleanWindowEnd,
  countOutcomes,
  protocolLayout,
  runProtocol,
} from './protocol.ts';

/**
 * Trains a scorer on a normalized training series over a graph of its nodes;
 * `stats` are the raw-unit statistics the series was normalized with.
 */
export type ModelTrainer = (
  train: Series,
  graph: EvalGraph,
  seed: number,
  stats: ModalityStats,
) => Promise<SeriesScorer>;

export interface EvaluationInput {
  /** Raw aligned series (all steps). */
  raw: Series;
  positions: Positions;
  /** Seconds between two samples of the series (for false alarms per day). */
  secondsPerStep: number;
  seeds: readonly number[];
  protocol?: ProtocolOptions;
  /** 'authors': the ranges saved with the GLSL code (IBRL only); 'training': max − min over all training data. */
  injectionRanges?: 'authors' | 'training';
  /** The ranges 'authors' stands for (default: those saved with the GLSL code). */
  authorsRanges?: Readonly<Record<string, { min: number; max: number }>>;
  /** How injections are drawn and shaped (default: the GLSL paper's; GLSL+ mirrors by x⁻¹). */
  injectionStyle?: InjectionStyle;
  /** Neighbours per node for the graph and the neighbour-median baseline. Default 4. */
  neighbours?: number;
  /** The model, when there is one. */
  model?: ModelTrainer;
  /** k-means clusters for the clustered model variant (0 or undefined: no clustered variant). */
  clusters?: number;
  /** Run the clustered variant on the first this many seeds only (default: all). */
  clusterSeeds?: number;
  /** Trains the per-cluster models (default: `model`), e.g. with a smaller time budget. */
  clusterModel?: ModelTrainer;
  baselines?: boolean;
  onProgress?: (message: string) => void;
}

export interface ScorerRun {
  scorer: string;
  seed: number;
  counts: Counts;
  falseAlarms: FalseAlarms;
  threshold: number;
  /** Seconds to train (models) or calibrate (baselines). */
  trainSeconds: number;
  /** Models trained for this run (1, or one per cluster). */
  models: number;
  /**
   * Diagnostic only, never a result: the F1 at the threshold that would be
   * best on these very test outcomes. A gap to `counts.f1` says the scores
   * separate better than the threshold does.
   */
  bestTestThreshold: { threshold: number; f1: number };
  /** Flagged clean check points by the node ranked first in them (node id → count). */
  flaggedCleanTopNodes?: Record<string, number>;
}

export interface EvaluationResult {
  runs: ScorerRun[];
  /** Injection kinds per seed. */
  kinds: Record<number, Record<string, number>>;
  layout: ReturnType<typeof protocolLayout>;
  nodes: number;
  modalities: string[];
  injectionRanges: 'authors' | 'training';
  clusterSizes?: number[];
}

function trainingSlice(series: Series, trainEnd: number): Series {
  const width = series.nodes.length * series.modalities.length;
  return {
    ...series,
    steps: trainEnd,
    data: series.data.slice(0, trainEnd * width),
    times: series.times?.slice(0, trainEnd),
  };
}

/** What every scorer of one evaluation shares: the data, its split and normalisation, the graph. */
interface EvaluationContext {
  input: EvaluationInput;
  protocol: ProtocolOptions;
  progress: (message: string) => void;
  raw: Series;
  layout: ReturnType<typeof protocolLayout>;
  normalization: ModalityStats;
  injectionStats: ModalityStats;
  normalized: Series;
  train: Series;
  nearest: ReturnType<typeof nearestNodeIndex>;
  k: number;
  graph: EvalGraph;
  neighbourIds: Map<string, string[]>;
  clusterGroups: number[][] | undefined;
}

/** A scorer ready to score, with the thresholds its scores are also judged at (reported as scorers of their own). */
interface BuiltScorer {
  scorer: SeriesScorer;
  models: number;
  alternatives?: { name: string; threshold: number }[];
}

interface ScorerBuilder {
  name: string;
  build: () => Promise<BuiltScorer>;
}

export async function runEvaluation(input: EvaluationInput): Promise<EvaluationResult> {
  const context = evaluationContext(input);
  const { raw, layout, protocol, progress, clusterGroups } = context;
  const rangesKind = input.injectionRanges ?? 'training';
  const result: EvaluationResult = {
    runs: [],
    kinds: {},
    layout,
    nodes: raw.nodes.length,
    modalities: [...raw.modalities],
    injectionRanges: rangesKind,
    clusterSizes: clusterGroups?.map((g) => g.length),
  };
  for (const [seedIndex, seed] of input.seeds.entries()) {
    const plan = planPaperInjections(raw, layout.checkPoints, createRng(seed), {
      ...input.injectionStyle,
      injectionLength: protocol.injectionLength,
      window: protocol.window,
      nearest: context.nearest,
    });
    result.kinds[seed] = kindCounts(plan);
    progress(`seed ${seed}: injections ${JSON.stringify(result.kinds[seed])}`);
    for (const builder of scorerBuilders(context, seed, seedIndex)) {
      result.runs.push(...(await scoreOneScorer(context, builder, seed, plan)));
    }
  }
  return result;
}

function evaluationContext(input: EvaluationInput): EvaluationContext {
  const { raw } = input;
  const protocol = input.protocol ?? PAPER_PROTOCOL;
  const layout = protocolLayout(raw.steps, protocol);
  const normalization = computeStats(raw, { to: layout.trainEnd });
  const injectionStats: ModalityStats =
    (input.injectionRanges ?? 'training') === 'authors'
      ? withModalityRanges(normalization, input.authorsRanges ?? AUTHORS_IBRL_RANGES)
      : normalization;
  const normalized = normalizeSeries(raw, normalization);
  const k = input.neighbours ?? 4;
  const graph = knnGraph(raw.nodes, input.positions, k);
  return {
    input,
    protocol,
    progress: input.onProgress ?? (() => {}),
    raw,
    layout,
    normalization,
    injectionStats,
    normalized,
    train: trainingSlice(normalized, layout.trainEnd),
    nearest: nearestNodeIndex(raw.nodes, input.positions),
    k,
    graph,
    neighbourIds: new Map(
      raw.nodes.map((id, i) => [id, graph.adjacency[i].flatMap((w, j) => (w > 0 ? [raw.nodes[j]] : []))]),
    ),
    clusterGroups: input.clusters ? kmeansClusters(raw.nodes, input.positions, input.clusters, 1) : undefined,
  };
}

/** The scorers of one seed: the baselines, the model and (on the first seeds) its clustered variant. */
function scorerBuilders(context: EvaluationContext, seed: number, seedIndex: number): ScorerBuilder[] {
  const { input, raw, normalized, layout, protocol, nearest, injectionStats, normalization, train, progress } = context;
  const calibration = {
    raw,
    normalized,
    trainEnd: layout.trainEnd,
    protocol,
    nearest,
    injectionStats,
    normalization,
    seed,
    style: input.injectionStyle,
  };
  /**
   * A model's threshold as the baselines get theirs (the protocol inside the
   * training range); the threshold it was trained with (its validation tail)
   * is reported next to it as `<name> (validation threshold)`.
   */
  const calibrateModel = async (name: string, scorer: SeriesScorer) => {
    const { threshold } = await thresholdOnTraining(scorer, calibration);
    progress(
      `seed ${seed}: ${name}: threshold ${threshold.toFixed(3)} from the training range (${scorer.threshold.toFixed(3)} from validation)`,
    );
    return {
      scorer: withThreshold(scorer, threshold),
      alternatives: [{ name: `${name} (validation threshold)`, threshold: scorer.threshold }],
    };
  };
  const builders: ScorerBuilder[] = [];
  if (input.baselines ?? true) {
    const baseline = (name: string, make: () => SeriesScorer & CalibratedBaseline): ScorerBuilder => ({
      name,
      build: async () => {
        const scorer = make();
        await calibrateOnTraining(scorer, calibration);
        return { scorer, models: 0 };
      },
    });
    builders.push(baseline('rolling-zscore', () => new RollingZScoreScorer({ history: protocol.window })));
    builders.push(
      baseline('neighbour-median', () => new NeighbourMedianScorer({ neighbours: context.neighbourIds }).fit(train)),
    );
  }
  const model = input.model;
  if (!model) return builders;
  builders.push({
    name: 'glsl-model',
    build: async () => ({
      ...(await calibrateModel('glsl-model', await model(train, context.graph, seed, normalization))),
      models: 1,
    }),
  });
  const groups = context.clusterGroups;
  if (groups && seedIndex < (input.clusterSeeds ?? Infinity)) {
    const clusterModel = input.clusterModel ?? model;
    const name = `glsl-model-${groups.length}-clusters`;
    builders.push({
      name,
      build: async () => {
        const members = [];
        for (const [c, indices] of groups.entries()) {
          progress(`seed ${seed}: training cluster ${c + 1}/${groups.length} (${indices.length} nodes)`);
          const sub = selectNodes(train, indices);
          members.push({
            indices,
            scorer: await clusterModel(
              sub,
              knnGraph(sub.nodes, input.positions, context.k),
              seed,
              selectStats(normalization, sub.nodes),
            ),
          });
        }
        return { ...(await calibrateModel(name, new ClusteredScorer(name, members))), models: members.length };
      },
    });
  }
  return builders;
}

/** Trains or calibrates one scorer, runs the protocol with it and judges its outcomes at each of its thresholds. */
async function scoreOneScorer(
  context: EvaluationContext,
  builder: ScorerBuilder,
  seed: number,
  plan: ReturnType<typeof planPaperInjections>,
): Promise<ScorerRun[]> {
  const { raw, normalized, layout, protocol, injectionStats, normalization, progress, input } = context;
  progress(`seed ${seed}: ${builder.name}: training/calibrating`);
  const started = performance.now();
  const { scorer, models, alternatives = [] } = await builder.build();
  const trainSeconds = (performance.now() - started) / 1000;
  progress(`seed ${seed}: ${builder.name}: scoring (${trainSeconds.toFixed(1)} s to train)`);
  const { outcomes, cleanStream } = await runProtocol(
    scorer,
    normalized,
    layout.trainEnd,
    layout.checkPoints,
    injectedCases(raw, plan, injectionStats, normalization),
    protocol.window,
    (i) => {
      if ((i + 1) % 25 === 0) progress(`seed ${seed}: ${builder.name}: ${i + 1}/${plan.length} injections scored`);
    },
  );
  const oracle = bestF1Threshold(outcomes);
  return [{ name: builder.name, threshold: scorer.threshold }, ...alternatives].map((judged) => {
    const counts = countOutcomes(outcomes, judged.threshold);
    const alarms = falseAlarms(cleanStream, raw.nodes.length, judged.threshold, input.secondsPerStep);
    progress(
      `seed ${seed}: ${judged.name}: threshold ${judged.threshold.toFixed(3)} P ${counts.precision.toFixed(3)} R ${counts.recall.toFixed(3)} F1 ${counts.f1.toFixed(3)}`,
    );
    return {
      scorer: judged.name,
      seed,
      counts,
      falseAlarms: alarms,
      threshold: judged.threshold,
      trainSeconds,
      models,
      bestTestThreshold: { threshold: oracle.threshold, f1: oracle.counts.f1 },
      flaggedCleanTopNodes: flaggedCleanByNode(
        cleanStream,
        raw.nodes,
        layout.checkPoints.map((t) => cleanWindowEnd(t, protocol.window)),
        judged.threshold,
      ),
    };
  });
}
