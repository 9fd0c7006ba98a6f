/**
 * What `wsn-watch retrain` does once its flags are parsed: finds the promoted
 * version (the candidate's parent, and where its modalities come from), reads
 * the period's clean history from InfluxDB (history.ts), trains on it with the
 * `train` code and registers the result as a candidate version. It never
 * promotes: that stays `wsn-watch model promote`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { redactUrl } from '../../common/log.ts';
import { PAPER_INJECTION_SAMPLES } from '../../sources/fault-catalogue.ts';
import type { ClusterGraph } from '../../model/graph.ts';
import { MODEL_FILE } from '../../model/io.ts';
import { ModelRegistry, registryDir } from '../../model/registry/store.ts';
import { historyGraph, trainOn, type TrainCliOptions } from '../../model/train/run.ts';
import { influxClient } from '../../store/influx-connection.ts';
import { storedModalities, type InfluxRows } from '../../store/influx-history.ts';
import { withTable } from '../open-table.ts';
import { MODELS_PARTITIONS, readPromoted } from '../registry/pointer.ts';
import { loadStoredHistory } from './history.ts';

/** The parsed flags of `wsn-watch retrain` (the training ones are `train`'s). */
export type RetrainOptions = Omit<TrainCliOptions, 'format' | 'nodes' | 'steps' | 'history' | 'data' | 'synthetic'> & {
  /** Length of the period, ms, ending at `until`. */
  since: number;
  /** End of the period (UTC ms); default now. */
  until?: number;
  marginTicks: number;
  pageRows: number;
  /** Whether --window was given; when not, the parent's window is used, so the candidate fits its detectors. */
  windowGiven?: boolean;
};

const say = (message: string): void => {
  process.stderr.write(`retrain: ${message}\n`);
};

/** Rows of one InfluxQL query against the configured database; a connection failure is INFLUX_UNREACHABLE. */
export function influxRows(config: Config): InfluxRows {
  const client = influxClient(config.influx.url, config.influx.database, config.influx);
  return async (influxql) => {
    let raw: {
      results: Array<{
        error?: string;
        series?: Array<{ columns: string[]; values: unknown[][]; tags?: Record<string, string> }>;
      }>;
    };
    try {
      raw = (await client.queryRaw(influxql, { database: config.influx.database, precision: 'ms' })) as typeof raw;
    } catch (error) {
      const message = (error as Error).message;
      if (/database not found/.test(message)) return [];
      throw new UserError(
        'INFLUX_UNREACHABLE',
        `cannot read InfluxDB at ${redactUrl(config.influx.url)}: ${message}`,
        'start it with `wsn-watch services up` or set influx.url / WSN_INFLUX_URL (and its credentials)',
      );
    }
    const result = raw.results[0];
    if (result?.error && /database not found/.test(result.error)) return [];
    if (result?.error) throw new UserError('INFLUX_QUERY', `InfluxDB refused "${influxql}": ${result.error}`);
    return (result?.series ?? []).flatMap((series) =>
      // A GROUP BY's tags (e.g. the node) become columns of each row.
      series.values.map((row) => ({
        ...series.tags,
        ...Object.fromEntries(series.columns.map((column, i) => [column, row[i]])),
      })),
    );
  };
}

/** The promoted version of the network (undefined when none is), from the models topic. */
async function promotedVersion(config: Config): Promise<string | undefined> {
  const { topic } = config.registry;
  const all = await withTable(
    config,
    { topic, partitions: MODELS_PARTITIONS, what: `the models topic ${topic}`, logName: 'retrain' },
    (table) => readPromoted(table),
  );
  return all.get(config.network)?.version;
}

/** The candidate's parent (--parent, else the promoted version) and the modalities it scores. */
async function parentOf(
  config: Config,
  explicit: string | undefined,
): Promise<{ parent: string | null; modalities?: string[]; window?: number }> {
  const id = explicit ?? (await promotedVersion(config));
  if (!id) {
    say(`no version of network ${config.network} is promoted: the candidate has no parent`);
    return { parent: null };
  }
  const registry = new ModelRegistry(registryDir(config));
  const version = await registry.get(id);
  const text = await readFile(path.join(registry.folder(version), MODEL_FILE), 'utf8');
  const { config: model } = (JSON.parse(text) as { metadata: { config: { modalities: string[]; window: number } } })
    .metadata;
  say(
    `parent ${id}${explicit ? '' : ' (the promoted version)'}: modalities ${model.modalities.join(', ')}, window ${model.window}`,
  );
  return { parent: id, modalities: model.modalities, window: model.window };
}

/** Fewest ticks `trainDetector` accepts for a window, a sequence and a validation fraction (its checkTrainingInput). */
export function minimumTicks(window: number, sequenceLength: number, validationFraction: number): number {
  for (let steps = window; ; steps++) {
    const trainSteps = Math.floor(steps * (1 - validationFraction));
    const validationStart = trainSteps - window + 1;
    if (trainSteps >= window + sequenceLength && steps - validationStart >= window + 2 * PAPER_INJECTION_SAMPLES + 2)
      return steps;
  }
}

function graphFor(nodes: string[], options: RetrainOptions): ClusterGraph {
  return historyGraph(nodes, options.topology, options.knn, say);
}

export async function runRetrain(given: RetrainOptions, config: Config): Promise<void> {
  const until = given.until ?? Date.now();
  const from = until - given.since;
  const tickMs = given.tickMs ?? config.ingest.tickMs;
  const rows = influxRows(config);
  const { parent, modalities, window } = await parentOf(config, given.parent);
  const options = { ...given, window: given.windowGiven || window === undefined ? given.window : window };
  const history = await loadStoredHistory(rows, {
    network: config.network,
    from,
    until,
    tickMs,
    modalities: modalities ?? (await storedModalities(rows)),
    pageRows: options.pageRows,
    marginTicks: options.marginTicks,
    maxGapTicks: options.maxGapTicks ?? 10,
    onProgress: say,
  });
  const { series } = history.dataset;
  const needed = minimumTicks(options.window, options.sequenceLength, options.validationFraction);
  if (series.steps < needed)
    throw new UserError(
      'RETRAIN_TOO_FEW_TICKS',
      `the clean history of network ${config.network} spans ${series.steps} ticks; training with window ${options.window} needs at least ${needed}`,
      'give a longer --since, or a smaller --window / --sequence-length',
    );
  const source = `influx:${config.influx.database}/anomaly?network=${config.network}`;
  await trainOn(
    { series, graph: graphFor(series.nodes, options), source },
    { ...options, tickMs, format: 'ibrl', nodes: series.nodes.length, steps: series.steps, register: true },
    {
      origin: 'retrain',
      network: config.network,
      registry: registryDir(config),
      parent,
      dataRange: { from: new Date(from).toISOString(), to: new Date(until).toISOString(), source },
      exclusions: { ...history.counts, marginTicks: options.marginTicks },
    },
  );
  const { counts } = history;
  process.stdout.write(
    `trained on ${counts.kept} of ${counts.nodeTicks} stored node-ticks: left out ${counts.alerted} alerted, ${counts.silenced} silenced, ${counts.confirmed} of confirmed faults; kept ${counts.falseAlarmsKept} of false alarms as clean data\n`,
  );
}
