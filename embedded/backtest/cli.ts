/** `wsn-watch backtest`: flags only; the wiring is in command.ts, the work in run.ts. */
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { parseTimestamp } from '../../sources/history.ts';
import { runBacktestCommand, type BacktestFlags } from './command.ts';

const integer =
  (flag: string, min: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${flag} needs an integer ≥ ${min}, got "${value}"`);
    return n;
  };
const probability = (value: string): number => {
  const n = Number(value);
  if (!(n > 0 && n < 1))
    throw new InvalidArgumentError(`--threshold needs a probability between 0 and 1, got "${value}"`);
  return n;
};

export function registerBacktestCommand(program: Command): void {
  program
    .command('backtest')
    .description(
      'run a history file through the live path (ingest alignment, detector, alert tracker) at full speed; scores and alerts as CSV; with --events, recall, time to detect, localization and false alerts next to two baselines',
    )
    .requiredOption(
      '--history <file>',
      'readings: CSV with a header (node, ts, one column per modality) or JSON lines, as `train --history` takes',
    )
    .option('--format <kind>', 'csv or jsonl (default: from the file extension)')
    .option('--model <dir>', 'trained model directory (config detector.model, default models/default)')
    .option(
      '--topology <file>',
      "node positions (IBRL node.txt, .json, .csv) for clusters and edges; default: one cluster with the model graph's edges",
    )
    .option('--tick-ms <ms>', 'tick length (config ingest.tickMs; UTC-aligned like ingest)', integer('--tick-ms', 1))
    .option('--threshold <p>', 'alert threshold (default: the threshold stored with the model)', probability)
    .option(
      '--out <file>',
      'per-node-tick scores as CSV (tick, node, cluster, probability, error per modality, is_anomaly)',
    )
    .option(
      '--alerts <file>',
      'alerts as CSV (scorer, node, cluster, kind, modality, since, fired, resolved, probability)',
    )
    .option('--influx', 'also write readings, scores and alerts to InfluxDB (influx.url, influx.database)')
    .option(
      '--events <file>',
      'known faults, CSV node,modality,start,end,kind: prints recall per kind, time to detect, localization, false alerts per node-day, for the model and both baselines',
    )
    .option(
      '--clean-alerts <file>',
      'with --events: the alerts CSV (--alerts) of a backtest of the same history without the faults, same model; another node alerting during an event counts against "localization, fault-caused" only when that run had no alert on that node within the grace',
    )
    .option('--report <file>', 'write the event metrics as markdown (.md) or JSON (.json)')
    .option('--no-baselines', 'do not score the rolling z-score and neighbour-median baselines')
    .option(
      '--baseline-fit-ticks <n>',
      'first ticks that fit and calibrate the baselines (default: a fifth of the history)',
      integer('--baseline-fit-ticks', 2),
    )
    .option(
      '--from <time>',
      'count alerts and node-days from this time on (ISO or epoch ms); earlier ticks only warm up',
    )
    .option(
      '--log-alerts',
      'print every alert transition of the model (fired, resolved) on stderr as it happens in event time',
    )
    .option(
      '--grace-ticks <n>',
      "ticks after an event's end within which an alert still counts for it (default: the model window)",
      integer('--grace-ticks', 0),
    )
    .addHelpText(
      'after',
      `
Examples:
  wsn-watch backtest --history site.csv --out scores.csv --alerts alerts.csv
  wsn-watch backtest --history site.csv --topology nodes.txt --events faults.csv --report report.md
  wsn-watch backtest --history faulty.csv --events faults.csv --clean-alerts clean-alerts.csv
See docs/backtest.md.`,
    )
    .action(backtestAction);
}

/** Checks the flags commander cannot, loads the config and hands over to command.ts. */
async function backtestAction(options: BacktestFlags, command: Command): Promise<void> {
  const globals = command.optsWithGlobals<{ config?: string }>();
  const config = loadConfig({
    file: globals.config,
    flags: { 'detector.model': options.model, 'ingest.tickMs': options.tickMs },
  });
  const note = (text: string): void => void process.stderr.write(`${text}\n`);
  const logger = createLogger('backtest', process.env.WSN_LOG_LEVEL ?? 'warn');
  if (options.format !== undefined && options.format !== 'csv' && options.format !== 'jsonl')
    throw new UserError(
      'OPTION_INVALID',
      `--format ${options.format} is not csv or jsonl`,
      'Pass --format csv or --format jsonl.',
    );
  const from = options.from === undefined ? undefined : parseTimestamp(options.from);
  if (from !== undefined && !Number.isFinite(from))
    throw new UserError(
      'OPTION_INVALID',
      `--from ${options.from} is not a time`,
      'Pass an ISO 8601 time with a zone or epoch milliseconds.',
    );
  await runBacktestCommand(options, { config, from, note, logger });
}
