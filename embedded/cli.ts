/**
 * `wsn-watch demo`: the embedded mode (docs/demo.md). The whole pipeline in
 * one process, no external service: the README's first command.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../common/config.ts';
import { createLogger } from '../common/log.ts';
import { resolveFromCwdOrRepo } from '../common/paths.ts';
import { runDemo } from './demo.ts';

interface DemoCliOptions {
  data?: string;
  nodes: number;
  speed: number;
  seed: number;
  duration?: number;
  port?: number;
  model?: string;
}

const integer =
  (flag: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag} needs an integer in [${min}, ${max}], got "${value}"`);
    return n;
  };

const speed = (value: string): number => {
  if (value === 'max') return Infinity;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(
      `--speed needs a positive number (600 = ten minutes of readings per second) or "max", got "${value}"`,
    );
  return n;
};

const seconds = (value: string): number => {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(`--duration needs a positive number of seconds, got "${value}"`);
  return n;
};

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run the whole pipeline in one process (simulated network or IBRL replay → ingest → detector → built-in dashboard), no external services',
    )
    .option(
      '--data <dir>',
      'replay the IBRL recording in this folder (node.txt, readings/), e.g. ../shared/data/ibrl; without it, or if it is not there, a synthetic network',
    )
    .option('--nodes <n>', 'nodes of the synthetic network', integer('--nodes', 2, 10_000), 48)
    .option('--speed <x>', 'event-time speed-up (600 = ten minutes of readings per second), or "max"', speed, 600)
    .option('--seed <n>', 'seed of the synthetic network, its faults and the injected ones', integer('--seed', 0), 1)
    .option('--duration <seconds>', 'stop by itself after this long (default: run until Ctrl-C)', seconds)
    .option(
      '--port <port>',
      'dashboard port (config dashboard.port, default 8080; 0 = any free port)',
      integer('--port', 0, 65_535),
    )
    .option('--model <dir>', 'trained model directory (config detector.model, default models/default)')
    .addHelpText(
      'after',
      `
The console shows the faults the run contains, one line per alert as it fires
or resolves, and a live status (ticks/s, nodes, clusters, anomalous nodes,
alerts firing, the dashboard's address). Ctrl-C stops it cleanly.

Examples:
  wsn-watch demo
  wsn-watch demo --data ../shared/data/ibrl
  wsn-watch demo --nodes 100 --speed 1200 --port 0 --duration 60`,
    )
    .action(async (options: DemoCliOptions, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string }>();
      const config = loadConfig({
        file: globals.config,
        flags: { 'detector.model': options.model, 'dashboard.port': options.port },
      });
      // The console is the demo's view: service logs only for warnings unless asked for.
      const logger = createLogger('demo', process.env.WSN_LOG_LEVEL ?? 'warn');
      await runDemo({
        config,
        dataDir: options.data === undefined ? undefined : resolveFromCwdOrRepo(options.data),
        nodes: options.nodes,
        speed: options.speed,
        seed: options.seed,
        durationSeconds: options.duration,
        logger,
        out: process.stdout,
        note: (text) => void process.stderr.write(`${text}\n`),
      });
    });
}
