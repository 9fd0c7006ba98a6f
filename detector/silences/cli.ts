/**
 * `wsn-watch silence add|list|expire`: maintenance silences on the compacted
 * silences topic (config silences.topic), copied to InfluxDB for the
 * dashboards. docs/operations.md walks through them. This file declares and
 * checks the flags; record.ts reads and writes the silences.
 */
import type { Command } from 'commander';
import type { Config } from '../../common/config.ts';
import { osUser } from '../../common/os-user.ts';
import { formatDuration, type Silence } from '../../common/silences.ts';
import { subcommandConfig, tableCommandGroup } from '../table-cli.ts';
import { addSilence, expireSilenceNow, listSilences } from './record.ts';
import { buildSilence, formatSilences, silenceState, type SilenceAddInput } from './spec.ts';

interface CommonFlags {
  network?: string;
  topic?: string;
}

function configOf(command: Command, flags: CommonFlags): Config {
  return subcommandConfig(command, { network: flags.network, 'silences.topic': flags.topic });
}

function describe(silence: Silence, now: number): string {
  const what = silence.modality ? `${silence.modality} alerts of node ${silence.node}` : `node ${silence.node}`;
  const when =
    silenceState(silence, now) === 'pending'
      ? `from ${new Date(silence.startsAt).toISOString()} until ${new Date(silence.endsAt).toISOString()}`
      : `until ${new Date(silence.endsAt).toISOString()} (${formatDuration(silence.endsAt - now)})`;
  return `${what} (network ${silence.network}) silenced ${when}: ${silence.reason} (by ${silence.author})`;
}

async function add(options: SilenceAddInput & CommonFlags, command: Command): Promise<void> {
  const config = configOf(command, options);
  const now = Date.now();
  const silence = buildSilence({ ...options, network: config.network }, now, osUser());
  await addSilence(config, silence);
  process.stdout.write(`${silence.id}\t${describe(silence, now)}\n`);
}

async function list(options: CommonFlags & { all?: boolean; json?: boolean }, command: Command): Promise<void> {
  const config = configOf(command, options);
  const now = Date.now();
  const silences = await listSilences(config, options.all, now);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(silences.map((s) => ({ ...s, state: silenceState(s, now) })))}\n`);
    return;
  }
  if (silences.length === 0) {
    process.stdout.write(`no ${options.all ? '' : 'active or pending '}silences in network ${config.network}\n`);
    return;
  }
  process.stdout.write(`${formatSilences(silences, now)}\n`);
}

async function expire(id: string, options: CommonFlags, command: Command): Promise<void> {
  const config = configOf(command, options);
  const now = Date.now();
  const expired = await expireSilenceNow(config, id, now);
  process.stdout.write(
    `${expired.id}\texpired: ${expired.modality ? `${expired.modality} alerts of ` : ''}node ${expired.node} (network ${expired.network}) alerts again from now\n`,
  );
}

const EXAMPLES = `
Examples:
  wsn-watch silence add --node 12 --for 2h --reason "battery swap"
  wsn-watch silence add --node 7 --modality humidity --until 2026-03-01T18:00:00Z --reason "sensor recalibration" --by ana
  wsn-watch silence list --all
  wsn-watch silence expire sil-1a2b3c4d

While a silence is active the detectors still score the node and store its points
(marked silenced) but send no alert about it; an alert already firing is resolved
(reason "silenced") and fires again at the end if the fault is still there.`;

export function registerSilenceCommands(program: Command): void {
  const { group: silence, common } = tableCommandGroup(program, {
    name: 'silence',
    description: 'maintenance silences: suppress a node’s alerts for a while, keep scoring and storing it',
    examples: EXAMPLES,
    commonOptions: [['--topic <name>', 'silences topic (config silences.topic, default wsn.silences)']],
  });
  common(
    silence
      .command('add')
      .description('silence a node (or one modality of it) for a duration or until a time')
      .option('--node <id>', 'node id (required)')
      .option('--modality <name>', 'only alerts blamed on this modality (default: every alert of the node)')
      .option('--for <duration>', 'how long, e.g. 30m, 2h, 1d, 1h30m')
      .option('--until <iso>', 'when it ends, ISO date-time, e.g. 2026-03-01T18:00:00Z')
      .option('--from <iso>', 'when it starts (default now)')
      .option('--reason <text>', 'why, shown on the dashboards and in Alertmanager (required)')
      .option('--by <name>', 'who (default the OS user)'),
  ).action(add);
  common(
    silence
      .command('list')
      .description('active and pending silences of the network')
      .option('--all', 'include expired ones')
      .option('--json', 'JSON instead of a table'),
  ).action(list);
  common(silence.command('expire <id>').description('end a silence now')).action(expire);
}
