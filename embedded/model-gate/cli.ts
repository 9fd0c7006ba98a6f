/**
 * `wsn-watch model compare VERSION`, and the promotion gate behind
 * `wsn-watch model promote` (registered on the model registry's commands,
 * which cannot run the live path themselves). docs/operations.md#shadow-compare-promote.
 */
import type { Command } from 'commander';
import { durationArg, instantArg, integerArg } from '../../common/cli-parsers.ts';
import { registryConfigOf } from '../../detector/registry/cli-options.ts';
import { formatComparison } from '../../detector/registry/gate.ts';
import { usePromotionGate } from '../../detector/registry/promotion-gate.ts';
import { GATE_DEFAULTS, compareCandidate, livePathGate, type CompareOptions } from './compare.ts';

const say = (message: string): void => void process.stderr.write(`model compare: ${message}\n`);

interface CompareFlags {
  since: number;
  until?: number;
  seed: number;
  perKind: number;
  json?: boolean;
  network?: string;
  registry?: string;
  topic?: string;
}

async function compareCommand(id: string, flags: CompareFlags, command: Command): Promise<void> {
  const config = registryConfigOf(command, flags);
  const options: CompareOptions = {
    sinceMs: flags.since,
    ...(flags.until === undefined ? {} : { until: flags.until }),
    seed: flags.seed,
    perKind: flags.perKind,
    progress: say,
  };
  const { comparison, verdict } = await compareCandidate(config, id, options);
  process.stdout.write(
    flags.json ? `${JSON.stringify({ ...comparison, gate: verdict })}\n` : `${formatComparison(comparison, verdict)}\n`,
  );
}

const EXAMPLES = `
Compares a version that is (or was) shadow-scored with the live model over
the last --since of its shadow: alert episodes, those operators confirmed
(feedback --true), false alerts per node-day; then both models on the
period's stored readings through the live path with faults of every kind
injected (same seed, same faults): event recall and F1. The last line is
the promotion gate's verdict, the one \`model promote\` applies.

Examples:
  wsn-watch model compare v4
  wsn-watch model compare v4 --since 12h --per-kind 3 --json`;

export function registerModelGate(program: Command): void {
  const model = program.commands.find((command) => command.name() === 'model');
  if (!model) throw new Error('the model registry commands must be registered before the gate');
  model
    .command('compare <version>')
    .description(
      'a shadowing version against the live model: false alerts per node-day and live-path recall/F1, and the promotion gate',
    )
    .option(
      '--since <duration>',
      'length of the compared period, e.g. 1d, 12h',
      durationArg('--since'),
      GATE_DEFAULTS.sinceMs,
    )
    .option(
      '--until <iso>',
      'end of the compared period (default now), e.g. 2026-03-01T00:00:00Z',
      instantArg('--until'),
    )
    .option('--seed <n>', 'seed of the injected faults', integerArg('--seed', 0), GATE_DEFAULTS.seed)
    .option('--per-kind <n>', 'injected faults of each kind', integerArg('--per-kind', 1), GATE_DEFAULTS.perKind)
    .option('--json', 'JSON instead of text')
    .option('--network <name>', 'sensor network (config network)')
    .option('--registry <dir>', 'registry folder (config registry.dir)')
    .option('--topic <name>', 'models topic (config registry.topic)')
    .addHelpText('after', EXAMPLES)
    .action(compareCommand);
  usePromotionGate(livePathGate(say));
}
