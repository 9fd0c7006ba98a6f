/**
 * loadTopology: reads node positions from an IBRL `node.txt`, a JSON or a CSV
 * file, validates every record, and applies the plausibility rule.
 * Bad records raise one TopologyInputError listing all of them; implausible
 * coordinates are excluded (reported with file and line), kept with a warning,
 * or raised, as the outlier policy says. Nothing is dropped silently.
 */
import { readFileSync, existsSync } from 'node:fs';
import { extname } from 'node:path';
import { KNOWN_MODALITIES } from '../../common/types.ts';
import { UserError } from '../../common/errors.ts';
import { TopologyInputError, type InputIssue } from '../input-error.ts';
import { DEFAULT_PLAUSIBILITY, findImplausible, type OutlierPolicy, type PlausibilityRule } from '../plausibility.ts';
import type { ExcludedNode, OutlierWarning, SensorNode, SourceLocation } from '../types.ts';
import { parseCsv } from './csv.ts';
import { parseIbrl } from './ibrl.ts';
import { parseJson } from './json.ts';
import { validateRecords, type RawNodeRecord } from './records.ts';

export type TopologyFormat = 'ibrl' | 'json' | 'csv';

export interface LoadOptions {
  /** Default: from the extension (.json, .csv, anything else = IBRL text). */
  format?: TopologyFormat;
  /** Modalities of nodes whose record names none (IBRL names none). Default: all known modalities. */
  defaultModalities?: readonly string[];
  /** Modality names accepted besides temperature, humidity, light, voltage. */
  extraModalities?: readonly string[];
  plausibility?: PlausibilityRule;
  outliers?: OutlierPolicy;
  /** Name shown in messages instead of the path (e.g. when reading from a string). */
  displayName?: string;
}

export interface LoadedNodes {
  /** Nodes that take part (status active or silent, plausible or kept). */
  nodes: SensorNode[];
  excluded: ExcludedNode[];
  warnings: OutlierWarning[];
  sources: Map<string, SourceLocation>;
}

export function detectFormat(file: string): TopologyFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.csv') return 'csv';
  return 'ibrl';
}

/** Parses already-read text; `file` is used for messages and format detection. */
export function parseTopologyText(text: string, file: string, options: LoadOptions = {}): LoadedNodes {
  const format = options.format ?? detectFormat(file);
  const name = options.displayName ?? file;
  const issues: InputIssue[] = [];
  let records: Array<{ record: RawNodeRecord; line: number }>;
  let declared: string[] = [];
  if (format === 'json') {
    const parsed = parseJson(text, name, issues);
    records = parsed.records;
    declared = parsed.declaredModalities;
  } else if (format === 'csv') records = parseCsv(text, name, issues);
  else records = parseIbrl(text, name, issues);

  const valid = validateRecords(
    records,
    {
      file: name,
      defaultModalities: options.defaultModalities ?? KNOWN_MODALITIES,
      extraModalities: [...(options.extraModalities ?? []), ...declared],
    },
    issues,
  );
  if (issues.length > 0) throw new TopologyInputError(issues);
  if (valid.length === 0) {
    throw new UserError(
      'TOPOLOGY_EMPTY',
      `${name} holds no nodes`,
      'give a file with at least one node line ("id x y")',
    );
  }

  const excluded: ExcludedNode[] = [];
  const warnings: OutlierWarning[] = [];
  const removedIds = new Set<string>();
  for (const { node, source } of valid) {
    if (node.status === 'removed') {
      excluded.push({ node, source, reason: 'status is "removed"' });
      removedIds.add(node.id);
    }
  }
  const candidates = valid.filter((v) => !removedIds.has(v.node.id));
  const reasons = findImplausible(
    candidates.map((c) => c.node),
    options.plausibility ?? DEFAULT_PLAUSIBILITY,
  );
  const policy = options.outliers ?? 'exclude';
  const outlierIssues: InputIssue[] = [];
  const nodes: SensorNode[] = [];
  const sources = new Map<string, SourceLocation>();
  candidates.forEach(({ node, source }, i) => {
    sources.set(node.id, source);
    const reason = reasons[i];
    if (reason === null) nodes.push(node);
    else if (policy === 'keep') {
      nodes.push(node);
      warnings.push({ node, source, reason });
    } else if (policy === 'exclude') excluded.push({ node, source, reason });
    else
      outlierIssues.push({
        file: source.file,
        line: source.line,
        field: reason.includes(' y=') ? 'y' : reason.includes(' z=') ? 'z' : 'x',
        message: reason,
      });
  });
  if (outlierIssues.length > 0) {
    throw new TopologyInputError(
      outlierIssues,
      'correct the coordinate, or choose --outliers exclude|keep, or give the floor plan with --bbox',
    );
  }
  if (nodes.length === 0) {
    throw new UserError(
      'TOPOLOGY_EMPTY',
      `${name}: every node was excluded`,
      'check the plausibility rule (--bbox, --outliers keep)',
    );
  }
  return { nodes, excluded, warnings, sources };
}

/** Reads and validates a topology file (IBRL text, JSON or CSV). */
export function loadTopology(file: string, options: LoadOptions = {}): LoadedNodes {
  if (!existsSync(file)) {
    throw new UserError(
      'TOPOLOGY_NOT_FOUND',
      `topology file ${file} does not exist`,
      'pass the path of a node position file (IBRL node.txt, .json or .csv)',
    );
  }
  return parseTopologyText(readFileSync(file, 'utf8'), file, options);
}
