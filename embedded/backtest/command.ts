/**
 * `wsn-watch backtest` once its flags are parsed: reads the history, the
 * model and the network, runs the backtest (run.ts) and prints the outcome.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { Detector } from '../../model/index.ts';
import { readHistoryReadings } from '../../sources/publish.ts';
import { InfluxSink } from '../../store/influx-sink.ts';
import { formatAlert } from '../console.ts';
import { readEvents, type AlertSpan, type FaultEvent } from './events.ts';
import { readAlertsFile } from './alerts-file.ts';
import { resolveFromCwdOrRepo } from '../../common/paths.ts';
import { openModel, policyWith } from './model.ts';
import { budgetPriorOf } from '../../detector/alerts/false-alert-budget.ts';
import { describeBudget } from '../../detector/alerts/tracker.ts';
import { networkFromFile, singleCluster, type BacktestNetwork } from './network.ts';
import { metricsJson, metricsMarkdown, metricsText } from './report.ts';
import { runBacktest, type BacktestResult } from './run.ts';

export interface BacktestFlags {
  history: string;
  format?: 'csv' | 'jsonl';
  model?: string;
  topology?: string;
  tickMs?: number;
  threshold?: number;
  out?: string;
  alerts?: string;
  influx?: boolean;
  events?: string;
  /** Alerts CSV of a backtest of the same history without the faults (fault-caused localization). */
  cleanAlerts?: string;
  report?: string;
  baselines: boolean;
  baselineFitTicks?: number;
  from?: string;
  graceTicks?: number;
  logAlerts?: boolean;
}

export interface BacktestCommandContext {
  config: Config;
  /** `--from` as epoch ms. */
  from: number | undefined;
  note: (text: string) => void;
  logger: Logger;
}

type History = Awaited<ReturnType<typeof readHistoryReadings>>;

export async function runBacktestCommand(
  flags: BacktestFlags,
  { config, from, note, logger }: BacktestCommandContext,
): Promise<void> {
  const events = flags.events ? readEvents(flags.events) : undefined;
  const cleanAlerts = readCleanAlerts(flags, note);
  const history = await readHistory(flags, config, note);
  const model = await openModel(config, note);
  const network = networkFor(flags, config, history, model);
  const threshold = flags.threshold ?? model.threshold;
  const policy = policyWith(config, threshold, flags.threshold === undefined ? budgetPriorOf(model) : undefined);
  note(
    `backtest: ${network.description}; tick ${config.ingest.tickMs} ms; alert threshold ${threshold.toFixed(3)} (${flags.threshold === undefined ? 'stored with the model' : '--threshold'}${describeBudget(policy)}), ${config.detector.alertAfterTicks} tick(s) to fire, ${config.detector.resolveAfterTicks} to resolve`,
  );
  const sink = await openSink(flags, config, logger, note);
  try {
    const result = await runBacktest({
      config,
      readings: history.readings,
      directory: network.directory,
      model,
      modelName: path.basename(resolveFromCwdOrRepo(config.detector.model)),
      policy,
      adjacency: network.adjacency,
      neighbours: network.neighbours,
      nearest: network.nearest,
      scoresOut: flags.out,
      alertsOut: flags.alerts,
      sink,
      events,
      baselines: flags.baselines && events !== undefined,
      baselineFitTicks: flags.baselineFitTicks,
      evaluateFrom: from,
      graceTicks: flags.graceTicks,
      cleanAlerts,
      onAlert: flags.logAlerts
        ? (tick, alert) => note(`[${new Date(tick).toISOString()}] ${formatAlert(alert)}`)
        : undefined,
      logger,
      progress: note,
    });
    printOutcome(result, flags, events, note);
  } finally {
    model.dispose();
    await sink?.close();
  }
}

/** `--clean-alerts`: each scorer's alerts on the history without the faults; only with `--events`. */
function readCleanAlerts(flags: BacktestFlags, note: (text: string) => void): Map<string, AlertSpan[]> | undefined {
  if (flags.cleanAlerts === undefined) return undefined;
  if (flags.events === undefined)
    throw new UserError(
      'OPTION_INVALID',
      '--clean-alerts needs --events (it tells background alerts from fault-caused ones during the events)',
      'Pass --events FILE too, or leave --clean-alerts out.',
    );
  const byScorer = readAlertsFile(flags.cleanAlerts);
  note(
    `backtest: clean-run alerts of ${[...byScorer].map(([name, spans]) => `${name} (${spans.length})`).join(', ') || 'no scorer'} from ${flags.cleanAlerts}; a scorer not in it is taken to have had none (every other-node alert of it counts as new)`,
  );
  return byScorer;
}

async function readHistory(flags: BacktestFlags, config: Config, note: (text: string) => void): Promise<History> {
  note(`backtest: reading ${flags.history}`);
  const history = await readHistoryReadings(flags.history, config.network, flags.format);
  note(
    `backtest: ${history.readings.length} readings of ${history.nodes.length} nodes (${history.modalities.join(', ')}) from ${new Date(history.readings[0].ts).toISOString()} to ${new Date(history.readings[history.readings.length - 1].ts).toISOString()}${history.emptyRows ? `; ${history.emptyRows} row(s) without any value skipped` : ''}`,
  );
  return history;
}

/** The network of `--topology`, else one cluster with the model graph's edges; the model must find its modalities in the history. */
function networkFor(flags: BacktestFlags, config: Config, history: History, model: Detector): BacktestNetwork {
  const missing = model.config.modalities.filter((m) => !history.modalities.includes(m));
  if (missing.length > 0)
    throw new UserError(
      'MODEL_MISMATCH',
      `the model needs ${model.config.modalities.join(', ')}, but ${path.basename(flags.history)} has no ${missing.join(', ')}`,
      'Pass a model trained on the modalities of this history (--model DIR).',
    );
  return flags.topology
    ? networkFromFile(config.network, flags.topology, history.modalities)
    : singleCluster(config.network, history.nodes, model, history.modalities);
}

async function openSink(
  flags: BacktestFlags,
  config: Config,
  logger: Logger,
  note: (text: string) => void,
): Promise<InfluxSink | undefined> {
  if (!flags.influx) return undefined;
  const sink = new InfluxSink({ url: config.influx.url, database: config.influx.database, logger });
  await sink.ensureDatabase();
  note(`backtest: writing to InfluxDB ${config.influx.database}`);
  return sink;
}

/** The one-line outcome on stdout; with events, the metrics table; with --report, the report file. */
function printOutcome(
  result: BacktestResult,
  flags: BacktestFlags,
  events: FaultEvent[] | undefined,
  note: (text: string) => void,
): void {
  const model0 = result.scorers[0];
  process.stdout.write(
    `backtest: ${result.ticks} ticks (${result.nodeTicksScored} node-ticks scored) in ${result.seconds.toFixed(1)} s; ${result.accepted} readings accepted, ${result.rejected.length} rejected; ` +
      `${model0.spans.filter((s) => s.kind === 'anomaly').length} anomaly and ${model0.spans.filter((s) => s.kind === 'silent').length} silent alert(s)` +
      `${flags.out ? `; scores in ${flags.out}` : ''}${flags.alerts ? `; alerts in ${flags.alerts}` : ''}\n`,
  );
  if (events) process.stdout.write(metricsText(result));
  if (flags.report) {
    writeFileSync(
      flags.report,
      flags.report.endsWith('.json') ? JSON.stringify(metricsJson(result), null, 2) + '\n' : metricsMarkdown(result),
    );
    note(`backtest: report written to ${flags.report}`);
  }
}
