/**
 * `wsn-watch model list|show|register|promote|rollback`: the model registry.
 * Versions live in the registry folder (model/registry/store.ts); the
 * promoted one per network on the compacted models topic (pointer.ts), which
 * every detector started with `--registry` follows. docs/operations.md#model-versions.
 * This file declares and checks the flags; models-topic.ts reads and writes
 * the records, promotion-gate.ts applies the gate.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { durationArg, instantArg, probabilityArg } from '../../common/cli-parsers.ts';
import { UserError } from '../../common/errors.ts';
import { osUser } from '../../common/os-user.ts';
import { ModelRegistry, registryDir, type ModelVersion } from '../../model/registry/store.ts';
import { tableCommandGroup } from '../table-cli.ts';
import { registryConfigOf, type RegistryFlags } from './cli-options.ts';
import { formatVersion, formatVersionTable } from './format.ts';
import { readModelShape } from './model-shape.ts';
import { promotedForListing, writePromotion, writeRollback, writeShadow } from './models-topic.ts';
import type { PromotedModel } from './pointer.ts';
import { checkGate, type GatePeriod } from './promotion-gate.ts';

async function list(options: RegistryFlags & { all?: boolean; json?: boolean }, command: Command): Promise<void> {
  const config = registryConfigOf(command, options);
  const registry = new ModelRegistry(registryDir(config));
  const versions = (await registry.list()).filter((version) => options.all || version.network === config.network);
  const promoted = await promotedForListing(config);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ versions, promoted: promoted ?? null })}\n`);
    return;
  }
  if (versions.length === 0) {
    process.stdout.write(
      `no model versions${options.all ? '' : ` of network ${config.network}`} in ${registry.shown} (register one with \`wsn-watch train --register\` or \`wsn-watch model register DIR\`)\n`,
    );
    return;
  }
  process.stdout.write(`${formatVersionTable(versions, promoted)}\n`);
}

async function show(id: string, options: RegistryFlags, command: Command): Promise<void> {
  const config = registryConfigOf(command, options);
  const registry = new ModelRegistry(registryDir(config));
  const version = await registry.get(id);
  const folder = registry.folder(version);
  const shape = await readModelShape(folder);
  const promoted = await promotedForListing(config);
  process.stdout.write(`${formatVersion(version, registry.shownFolder(version), promoted, shape)}\n`);
}

async function register(
  dir: string,
  options: RegistryFlags & { parent?: string | false; threshold?: number; note?: string },
  command: Command,
): Promise<void> {
  const config = registryConfigOf(command, options);
  const registry = new ModelRegistry(registryDir(config));
  const version = await registry.register({
    from: path.resolve(dir),
    network: config.network,
    origin: `model register ${dir}`,
    parent: options.parent === false ? null : options.parent,
    threshold: options.threshold,
    note: options.note,
  });
  process.stdout.write(`${describeRegistered(version, registry)}\n`);
}

/** "registered v3 (network lab, parent v2, threshold 0.784) in var/models/v3". */
function describeRegistered(version: ModelVersion, registry: ModelRegistry): string {
  return `registered ${version.id} (network ${version.network}, parent ${version.parent ?? 'none'}, threshold ${round(version.threshold)}) in ${registry.shownFolder(version)}`;
}

/** A threshold as people read it: 4 decimals at most. */
function round(value: number): number {
  return Number(value.toFixed(4));
}

/** "promoted v3 in network lab (was v2; threshold 0.81); …". */
export function describePromotion(record: PromotedModel): string {
  const before = record.previous.at(-1)?.version;
  return `promoted ${record.version} in network ${record.network} (was ${before ?? 'none'}; threshold ${round(record.threshold)}); detectors following the registry warm it up and swap to it at one tick`;
}

async function promoteCommand(
  id: string,
  options: RegistryFlags & GatePeriod & { by?: string; force?: boolean },
  command: Command,
): Promise<void> {
  const config = registryConfigOf(command, options);
  const registry = new ModelRegistry(registryDir(config));
  const version = await registry.get(id);
  await registry.verify(version);
  await checkGate(config, version, options);
  const record = await writePromotion(config, version, options.by ?? osUser());
  process.stdout.write(`${describePromotion(record)}\n`);
}

async function rollbackCommand(options: RegistryFlags & { by?: string }, command: Command): Promise<void> {
  const config = registryConfigOf(command, options);
  const registry = new ModelRegistry(registryDir(config));
  const record = await writeRollback(config, registry, options.by ?? osUser());
  process.stdout.write(
    `rolled back network ${record.next.network} from ${record.from} to ${record.next.version} (threshold ${round(record.next.threshold)})\n`,
  );
}

async function shadowCommand(
  id: string | undefined,
  options: RegistryFlags & { stop?: boolean; by?: string },
  command: Command,
): Promise<void> {
  const config = registryConfigOf(command, options);
  if (options.stop ? id !== undefined : id === undefined)
    throw new UserError(
      'MODEL_SHADOW_USAGE',
      options.stop ? '`model shadow --stop` takes no version' : '`model shadow` needs a VERSION (or --stop)',
      'wsn-watch model shadow v4 | wsn-watch model shadow --stop',
    );
  const record = await writeShadow(config, id, options.by ?? osUser());
  const { current, next } = record;
  if (next.shadow) {
    const replaced = current?.shadow ? ` (replacing ${current.shadow.version})` : '';
    process.stdout.write(
      `shadow-scoring ${next.shadow.version} beside ${next.version} in network ${next.network}${replaced}, threshold ${round(next.shadow.threshold)}; detectors following the registry write its verdicts to the shadow measurement, never as alerts\n`,
    );
  } else {
    process.stdout.write(
      `stopped shadow-scoring ${current?.shadow?.version} in network ${next.network} (it ran since ${current?.shadow?.since})\n`,
    );
  }
}

const EXAMPLES = `
Examples:
  wsn-watch model list
  wsn-watch model show v2
  wsn-watch model register models/default --note "the bundled model"
  wsn-watch model promote v2
  wsn-watch model rollback
  wsn-watch model shadow v3        score v3 beside the promoted version, alerts kept to itself
  wsn-watch model shadow --stop

Versions are immutable folders in registry.dir (default <stateDir>/models);
\`wsn-watch train --register\` adds one per training. The promoted version of
each network is a record on the compacted topic registry.topic (wsn.models):
\`wsn-watch detect --registry\` runs it and swaps to a newly promoted one
without a restart.`;

export function registerModelRegistryCommands(program: Command): void {
  const { group: model, common } = tableCommandGroup(program, {
    name: 'model',
    description: 'model registry: list, show, register, promote, roll back and shadow-score model versions',
    examples: EXAMPLES,
    commonOptions: [
      ['--registry <dir>', 'registry folder (config registry.dir, default <stateDir>/models)'],
      ['--topic <name>', 'models topic (config registry.topic, default wsn.models)'],
    ],
  });
  common(
    model
      .command('list')
      .description("the network's versions, with data, threshold, F1, parent and which is promoted")
      .option('--all', 'versions of every network')
      .option('--json', 'JSON instead of a table'),
  ).action(list);
  common(model.command('show <version>').description('everything stored about one version')).action(show);
  common(
    model
      .command('register <dir>')
      .description('register a model folder (model.json + weights.bin) as a new immutable version')
      .option('--parent <version>', 'the version it follows (default: the newest of the network)')
      .option('--no-parent', 'no parent')
      .option('--threshold <p>', 'store another alert threshold with this version', probabilityArg('--threshold'))
      .option('--note <text>', 'a note kept with the version'),
  ).action(register);
  common(
    model
      .command('promote <version>')
      .description(
        'make a version the one the network is scored with; detectors following the registry swap to it. A version that shadowed must pass the gate (`model compare`)',
      )
      .option('--by <name>', 'who (default the OS user)')
      .option('--force', 'promote even though the promotion gate fails')
      .option('--since <duration>', "the gate's compared period (default 1d)", durationArg('--since'))
      .option('--until <iso>', "end of the gate's compared period (default now)", instantArg('--until')),
  ).action(promoteCommand);
  common(
    model
      .command('rollback')
      .description('go back to the version promoted before the current one')
      .option('--by <name>', 'who (default the OS user)'),
  ).action(rollbackCommand);
  common(
    model
      .command('shadow [version]')
      .description(
        'score a candidate version beside the promoted one on the live stream (shadow measurement, no alerts routed); --stop ends it',
      )
      .option('--stop', 'stop the shadow of the network')
      .option('--by <name>', 'who (default the OS user)'),
  ).action(shadowCommand);
}
