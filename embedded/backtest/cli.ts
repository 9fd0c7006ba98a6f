/** `wsn-watch backtest`: flags only; the work is in run.ts. */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { alertPolicyFromConfig, type AlertPolicy } from '../../detector/alerts/tracker.ts';
import { checkModel } from '../../detector/service/model.ts';
import { ensureBackend, loadDetector, type Detector } from '../../model/index.ts';
import { parseTimestamp } from '../../sources/history.ts';
import { InfluxSink } from '../../store/influx-sink.ts';
import { formatAlert } from '../console.ts';
import { readEvents } from './events.ts';
import { readHistoryReadings } from '../../sources/publish.ts';
import { networkFromFile, singleCluster } from './network.ts';
import { metricsJson, metricsMarkdown, metricsText } from './report.ts';
import { runBacktest } from './run.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A model directory as given (relative to the working directory), else relative to the repository. */
export function resolveModelDir(dir: string): string {
  const fromCwd = path.resolve(dir);
  if (existsSync(fromCwd) || path.isAbsolute(dir)) return fromCwd;
  return path.resolve(REPO_ROOT, dir);
}

export async function openModel(config: Config, note: (text: string) => void): Promise<Detector> {
  const dir = resolveModelDir(config.detector.model);
  if (!existsSync(path.join(dir, 'model.json'))) throw new UserError('MODEL_MISSING', `no model at ${config.detector.model} (model.json not found)`, 'Pass --model DIR with a folder written by `wsn-watch train`.');
  const backend = await ensureBackend(config.detector.backend);
  const model = await loadDetector(dir);
  checkModel(model, {}, config.detector.model);
  note(`model: ${config.detector.model} (modalities ${model.config.modalities.join(', ')}; window ${model.config.window} ticks; stored threshold ${model.threshold.toFixed(3)}; ${backend} backend)`);
  return model;
}

/** The live alert policy with the given threshold (the model's stored one unless the user set one). */
export function policyWith(config: Config, threshold: number): AlertPolicy {
  return alertPolicyFromConfig({ detector: { ...config.detector, threshold }, dashboard: config.dashboard });
}

const integer = (flag: string, min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} needs an integer ≥ ${min}, got "${value}"`);
  return n;
};
const probability = (value: string): number => {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`--threshold needs a probability between 0 and 1, got "${value}"`);
  return n;
};

interface BacktestCliOptions {
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
  report?: string;
  baselines: boolean;
  baselineFitTicks?: number;
  from?: string;
  graceTicks?: number;
  logAlerts?: boolean;
}

export function registerBacktestCommand(program: Command): void {
  program
    .command('backtest')
    .description('run a history file through the live path (ingest alignment, detector, alert tracker) at full speed; scores and alerts as CSV; with --events, recall, time to detect, localization and false alerts next to two baselines')
    .requiredOption('--history <file>', 'readings: CSV with a header (node, ts, one column per modality) or JSON lines, as `train --history` takes')
    .option('--format <kind>', 'csv or jsonl (default: from the file extension)')
    .option('--model <dir>', 'trained model directory (config detector.model, default models/default)')
    .option('--topology <file>', 'node positions (IBRL node.txt, .json, .csv) for clusters and edges; default: one cluster with the model graph\'s edges')
    .option('--tick-ms <ms>', 'tick length (config ingest.tickMs; UTC-aligned like ingest)', integer('--tick-ms', 1))
    .option('--threshold <p>', 'alert threshold (default: the threshold stored with the model)', probability)
    .option('--out <file>', 'per-node-tick scores as CSV (tick, node, cluster, probability, error per modality, is_anomaly)')
    .option('--alerts <file>', 'alerts as CSV (scorer, node, cluster, kind, modality, since, fired, resolved, probability)')
    .option('--influx', 'also write readings, scores and alerts to InfluxDB (influx.url, influx.database)')
    .option('--events <file>', 'known faults, CSV node,modality,start,end,kind: prints recall per kind, time to detect, localization, false alerts per node-day, for the model and both baselines')
    .option('--report <file>', 'write the event metrics as markdown (.md) or JSON (.json)')
    .option('--no-baselines', 'do not score the rolling z-score and neighbour-median baselines')
    .option('--baseline-fit-ticks <n>', 'first ticks that fit and calibrate the baselines (default: a fifth of the history)', integer('--baseline-fit-ticks', 2))
    .option('--from <time>', 'count alerts and node-days from this time on (ISO or epoch ms); earlier ticks only warm up')
    .option('--log-alerts', 'print every alert transition of the model (fired, resolved) on stderr as it happens in event time')
    .option('--grace-ticks <n>', 'ticks after an event\'s end within which an alert still counts for it (default: the model window)', integer('--grace-ticks', 0))
    .addHelpText(
      'after',
      `
Examples:
  wsn-watch backtest --history site.csv --out scores.csv --alerts alerts.csv
  wsn-watch backtest --history site.csv --topology nodes.txt --events faults.csv --report report.md
See docs/backtest.md.`,
    )
    .action(async (options: BacktestCliOptions, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string }>();
      const config = loadConfig({ file: globals.config, flags: { 'detector.model': options.model, 'ingest.tickMs': options.tickMs } });
      const note = (text: string): void => void process.stderr.write(`${text}\n`);
      const logger = createLogger('backtest', process.env.WSN_LOG_LEVEL ?? 'warn');
      if (options.format !== undefined && options.format !== 'csv' && options.format !== 'jsonl') throw new UserError('OPTION_INVALID', `--format ${options.format} is not csv or jsonl`, 'Pass --format csv or --format jsonl.');
      const from = options.from === undefined ? undefined : parseTimestamp(options.from);
      if (from !== undefined && !Number.isFinite(from)) throw new UserError('OPTION_INVALID', `--from ${options.from} is not a time`, 'Pass an ISO 8601 time with a zone or epoch milliseconds.');
      const events = options.events ? readEvents(options.events) : undefined;
      note(`backtest: reading ${options.history}`);
      const history = await readHistoryReadings(options.history, config.network, options.format);
      note(`backtest: ${history.readings.length} readings of ${history.nodes.length} nodes (${history.modalities.join(', ')}) from ${new Date(history.readings[0].ts).toISOString()} to ${new Date(history.readings[history.readings.length - 1].ts).toISOString()}${history.emptyRows ? `; ${history.emptyRows} row(s) without any value skipped` : ''}`);
      const model = await openModel(config, note);
      const missing = model.config.modalities.filter((m) => !history.modalities.includes(m));
      if (missing.length > 0) throw new UserError('MODEL_MISMATCH', `the model needs ${model.config.modalities.join(', ')}, but ${path.basename(options.history)} has no ${missing.join(', ')}`, 'Pass a model trained on the modalities of this history (--model DIR).');
      const network = options.topology ? networkFromFile(config.network, options.topology, history.modalities) : singleCluster(config.network, history.nodes, model, history.modalities);
      const threshold = options.threshold ?? model.threshold;
      note(`backtest: ${network.description}; tick ${config.ingest.tickMs} ms; alert threshold ${threshold.toFixed(3)} (${options.threshold === undefined ? 'stored with the model' : '--threshold'}), ${config.detector.alertAfterTicks} tick(s) to fire, ${config.detector.resolveAfterTicks} to resolve`);
      let sink: InfluxSink | undefined;
      if (options.influx) {
        sink = new InfluxSink({ url: config.influx.url, database: config.influx.database, logger });
        await sink.ensureDatabase();
        note(`backtest: writing to InfluxDB ${config.influx.database}`);
      }
      try {
        const result = await runBacktest({
          config,
          readings: history.readings,
          directory: network.directory,
          model,
          modelName: path.basename(resolveModelDir(config.detector.model)),
          policy: policyWith(config, threshold),
          adjacency: network.adjacency,
          neighbours: network.neighbours,
          nearest: network.nearest,
          scoresOut: options.out,
          alertsOut: options.alerts,
          sink,
          events,
          baselines: options.baselines && events !== undefined,
          baselineFitTicks: options.baselineFitTicks,
          evaluateFrom: from,
          graceTicks: options.graceTicks,
          onAlert: options.logAlerts ? (tick, alert) => note(`[${new Date(tick).toISOString()}] ${formatAlert(alert)}`) : undefined,
          logger,
          progress: note,
        });
        const model0 = result.scorers[0];
        process.stdout.write(
          `backtest: ${result.ticks} ticks (${result.nodeTicksScored} node-ticks scored) in ${result.seconds.toFixed(1)} s; ${result.accepted} readings accepted, ${result.rejected.length} rejected; ` +
            `${model0.spans.filter((s) => s.kind === 'anomaly').length} anomaly and ${model0.spans.filter((s) => s.kind === 'silent').length} silent alert(s)` +
            `${options.out ? `; scores in ${options.out}` : ''}${options.alerts ? `; alerts in ${options.alerts}` : ''}\n`,
        );
        if (events) process.stdout.write(metricsText(result));
        if (options.report) {
          writeFileSync(options.report, options.report.endsWith('.json') ? JSON.stringify(metricsJson(result), null, 2) + '\n' : metricsMarkdown(result));
          note(`backtest: report written to ${options.report}`);
        }
      } finally {
        model.dispose();
        await sink?.close();
      }
    });
}
