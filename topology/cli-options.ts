/**
 * The options shared by the `topology` subcommands, turned from strings into
 * the loader, edge-rule and cluster options. Bad values raise commander's
 * InvalidArgumentError, which names the flag.
 */
import { integerArg, oneOfArg, positiveArg } from '../common/cli-parsers.ts';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_EDGE_RULE } from './edge-rules.ts';
import { DEFAULT_CLUSTER_OPTIONS } from './clustering.ts';
import { DEFAULT_PLAUSIBILITY, type OutlierPolicy, type PlausibilityRule } from './plausibility.ts';
import type { LoadOptions, TopologyFormat } from './loaders/index.ts';
import type { ClusterOptions, EdgeRule, WeightKind } from './types.ts';

export interface TopologyCliOptions {
  format?: TopologyFormat;
  knn?: number;
  range?: number;
  weight?: WeightKind;
  weightScale?: number;
  maxClusterSize: number;
  seed: number;
  louvain: boolean;
  iterations: number;
  partitions: number;
  outliers: OutlierPolicy;
  bbox?: [number, number, number, number];
  mad: number;
  modalities?: string[];
  extraModalities?: string[];
  svg?: string;
}

/** A positive integer (node counts, sizes, iterations). */
export const positiveInt = (flag: string) => integerArg(flag, 1);

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const bbox = (value: string): [number, number, number, number] => {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 4 || !parts.every(Number.isFinite) || parts[0] >= parts[2] || parts[1] >= parts[3]) {
    throw new InvalidArgumentError(`--bbox needs "minX,minY,maxX,maxY" with min < max, got "${value}"`);
  }
  return parts as [number, number, number, number];
};

/** Adds the shared options to a subcommand. */
export function addTopologyOptions(command: Command): Command {
  return command
    .option(
      '--format <format>',
      'input format: ibrl ("id x y" lines), json or csv (default: from the file extension)',
      oneOfArg('--format', ['ibrl', 'json', 'csv'] as const),
    )
    .option(
      '--knn <k>',
      `link each node to its k nearest nodes (default ${DEFAULT_EDGE_RULE.knn} when --range is not given)`,
      positiveInt('--knn'),
    )
    .option(
      '--range <r>',
      'link nodes within radio range r (position units); with --knn: the k nearest within range',
      positiveArg('--range'),
    )
    .option(
      '--weight <kind>',
      'edge weight as a decreasing function of distance d: gaussian exp(-(d/s)²/2) or inverse 1/(1+d/s)',
      oneOfArg('--weight', ['gaussian', 'inverse'] as const),
    )
    .option(
      '--weight-scale <s>',
      'distance scale s of the weight (default: median edge length)',
      positiveArg('--weight-scale'),
    )
    .option(
      '--max-cluster-size <n>',
      'upper bound on nodes per cluster',
      positiveInt('--max-cluster-size'),
      DEFAULT_CLUSTER_OPTIONS.maxSize,
    )
    .option(
      '--seed <n>',
      'seed of k-means and Louvain (same seed, same clusters)',
      integerArg('--seed'),
      DEFAULT_CLUSTER_OPTIONS.seed,
    )
    .option(
      '--louvain',
      'start from Louvain communities of the weighted graph, then bound their size with k-means',
      false,
    )
    .option(
      '--iterations <n>',
      'k-means iteration limit',
      positiveInt('--iterations'),
      DEFAULT_CLUSTER_OPTIONS.maxIterations,
    )
    .option(
      '--partitions <n>',
      'partitions of the frame topic, for the cluster → partition column',
      positiveInt('--partitions'),
      DEFAULT_CLUSTER_OPTIONS.partitions,
    )
    .option(
      '--outliers <policy>',
      'implausible coordinates: exclude (reported), keep (reported as warning) or error',
      oneOfArg('--outliers', ['exclude', 'keep', 'error'] as const),
      'exclude',
    )
    .option('--bbox <minX,minY,maxX,maxY>', 'plausible area (floor plan); replaces the median/MAD rule', bbox)
    .option(
      '--mad <k>',
      'median/MAD rule: implausible beyond k robust standard deviations from the median',
      positiveArg('--mad'),
      DEFAULT_PLAUSIBILITY.kind === 'mad' ? DEFAULT_PLAUSIBILITY.threshold : 6,
    )
    .option(
      '--modalities <list>',
      'modalities of nodes whose record names none (default: temperature,humidity,light,voltage)',
      list,
    )
    .option('--extra-modalities <list>', 'modality names accepted besides the known four, comma separated', list)
    .option('--svg <out>', 'also draw the network with cluster colours to this SVG file');
}

export function loadOptionsFrom(o: TopologyCliOptions): LoadOptions {
  const plausibility: PlausibilityRule = o.bbox
    ? { kind: 'bbox', minX: o.bbox[0], minY: o.bbox[1], maxX: o.bbox[2], maxY: o.bbox[3] }
    : {
        kind: 'mad',
        threshold: o.mad,
        minNodes: DEFAULT_PLAUSIBILITY.kind === 'mad' ? DEFAULT_PLAUSIBILITY.minNodes : 8,
      };
  return {
    format: o.format,
    defaultModalities: o.modalities,
    extraModalities: o.extraModalities,
    plausibility,
    outliers: o.outliers,
  };
}

export function edgeRuleFrom(o: TopologyCliOptions): EdgeRule {
  const rule: EdgeRule = o.knn === undefined && o.range === undefined ? { ...DEFAULT_EDGE_RULE } : {};
  if (o.knn !== undefined) rule.knn = o.knn;
  if (o.range !== undefined) rule.range = o.range;
  if (o.weight !== undefined) rule.weight = o.weight;
  if (o.weightScale !== undefined) rule.scale = o.weightScale;
  return rule;
}

export function clusterOptionsFrom(o: TopologyCliOptions): ClusterOptions {
  return {
    maxSize: o.maxClusterSize,
    seed: o.seed,
    louvain: o.louvain,
    maxIterations: o.iterations,
    partitions: o.partitions,
  };
}
