/**
 * `wsn-watch model list|show|register|promote|rollback`: the model registry.
 * Versions live in the registry folder (model/registry/store.ts); the
 * promoted one per network on the compacted models topic (pointer.ts), which
 * every detector started with `--registry` follows. docs/operations.md#model-versions.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { durationArg, instantArg, probabilityArg } from '../../common/cli-parsers.ts';
import { loadConfig, type Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { osUser } from '../../common/os-user.ts';
import type { KeyedTable } from '../../common/transport.ts';
import { MODEL_FILE } from '../../model/io.ts';
import { ModelRegistry, registryDir, type ModelVersion } from '../../model/registry/store.ts';
import { withTable } from '../table-cli.ts';
import { formatVersion, formatVersionTable } from './format.ts';
import {
  MODELS_PARTITIONS,
  encodePromoted,
  promote,
  readPromoted,
  rollback,
  shadowRunOf,
  startShadow,
  stopShadow,
  type PromotedModel,
} from './pointer.ts';

/**
 * Judges the promotion of a version that was shadow-scored: the comparison
 * with the live model as printed, and whether it passes. Set by the layer
 * that can run the live-path evaluation (embedded/model-gate/cli.ts).
 */
export type PromotionGate = (
  config: Config,
  record: PromotedModel,
  version: ModelVersion,
  period: GatePeriod,
) => Promise<{ pass: boolean; report: string }>;

/** The compared period of a gated promotion: `since` before `until` (defaults: the gate's, a day before now). */
export interface GatePeriod {
  since?: number;
  until?: number;
}

let promotionGate: PromotionGate | undefined;

export function usePromotionGate(gate: PromotionGate): void {
  promotionGate = gate;
}

interface CommonFlags {
  network?: string;
  registry?: string;
  topic?: string;
}

function configOf(command: Command, flags: CommonFlags): Config {
  const globals = command.optsWithGlobals<{ config?: string }>();
  return loadConfig({
    file: globals.config,
    flags: { network: flags.network, 'registry.dir': flags.registry, 'registry.topic': flags.topic },
  });
}

/** Opens the models topic as a table, runs `use`, closes everything whatever happens. */
function withPointers<T>(config: Config, use: (table: KeyedTable) => Promise<T>): Promise<T> {
  const { topic } = config.registry;
  return withTable(
    config,
    { topic, partitions: MODELS_PARTITIONS, what: `the models topic ${topic}`, logName: 'model' },
    use,
  );
}

async function currentOf(table: KeyedTable, network: string): Promise<PromotedModel | undefined> {
  const all = await readPromoted(table, (key, reason) =>
    process.stderr.write(`model: skipping the unreadable record ${key} of the models topic: ${reason}\n`),
  );
  return all.get(network);
}

/** The promoted record for listings: a Kafka outage is a warning there, the registry can still be read. */
async function promotedForListing(config: Config): Promise<PromotedModel | undefined> {
  try {
    return await withPointers(config, (table) => currentOf(table, config.network));
  } catch (error) {
    process.stderr.write(`model: warning: which version is promoted is unknown (${(error as Error).message})\n`);
    return undefined;
  }
}

async function list(options: CommonFlags & { all?: boolean; json?: boolean }, command: Command): Promise<void> {
  const config = configOf(command, options);
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

async function show(id: string, options: CommonFlags, command: Command): Promise<void> {
  const config = configOf(command, options);
  const registry = new ModelRegistry(registryDir(config));
  const version = await registry.get(id);
  const folder = registry.folder(version);
  const metadata = await readFile(path.join(folder, MODEL_FILE), 'utf8')
    .then((text) => (JSON.parse(text) as { metadata: { config: { modalities: string[]; window: number } } }).metadata)
    .catch(() => undefined);
  const promoted = await promotedForListing(config);
  process.stdout.write(`${formatVersion(version, registry.shownFolder(version), promoted, metadata?.config)}\n`);
}

async function register(
  dir: string,
  options: CommonFlags & { parent?: string | false; threshold?: number; note?: string },
  command: Command,
): Promise<void> {
  const config = configOf(command, options);
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

/**
 * A version that shadowed is promoted only when the gate passes (or with
 * --force, said so); one that never shadowed is promoted as asked, with a
 * note: the gate judges shadow results and it has none.
 */
async function checkGate(
  config: Config,
  version: ModelVersion,
  options: GatePeriod & { force?: boolean },
): Promise<void> {
  const current = await withPointers(config, (table) => currentOf(table, config.network));
  // Already the promoted one: promote() says so.
  if (current?.version === version.id) return;
  if (!current || !shadowRunOf(current, version.id) || !promotionGate) {
    if (current)
      process.stderr.write(
        `model: ${version.id} was never shadow-scored in network ${config.network}: promoted without the gate (\`wsn-watch model shadow ${version.id}\` first to compare it with ${current.version})\n`,
      );
    return;
  }
  const { pass, report } = await promotionGate(config, current, version, options);
  if (pass) {
    process.stderr.write(`${report}\n`);
    return;
  }
  if (!options.force)
    throw new UserError(
      'MODEL_GATE_FAILED',
      `not promoting ${version.id}: the promotion gate fails\n${report}`,
      `let it shadow longer (\`wsn-watch model compare ${version.id}\`), or promote anyway with --force`,
    );
  process.stderr.write(`${report}\nmodel: promoting ${version.id} although the gate fails (--force)\n`);
}

/** Writes the record that promotes `version` (gate not applied: callers gate first). */
export async function writePromotion(config: Config, version: ModelVersion, by: string): Promise<PromotedModel> {
  return withPointers(config, async (table) => {
    const next = promote(await currentOf(table, config.network), config.network, version, by, Date.now());
    await table.put([{ key: config.network, value: encodePromoted(next) }]);
    return next;
  });
}

/** "promoted v3 in network lab (was v2; threshold 0.81); …". */
export function describePromotion(record: PromotedModel): string {
  const before = record.previous.at(-1)?.version;
  return `promoted ${record.version} in network ${record.network} (was ${before ?? 'none'}; threshold ${round(record.threshold)}); detectors following the registry warm it up and swap to it at one tick`;
}

async function promoteCommand(
  id: string,
  options: CommonFlags & GatePeriod & { by?: string; force?: boolean },
  command: Command,
): Promise<void> {
  const config = configOf(command, options);
  const registry = new ModelRegistry(registryDir(config));
  const version = await registry.get(id);
  await registry.verify(version);
  await checkGate(config, version, options);
  const record = await writePromotion(config, version, options.by ?? osUser());
  process.stdout.write(`${describePromotion(record)}\n`);
}

async function rollbackCommand(options: CommonFlags & { by?: string }, command: Command): Promise<void> {
  const config = configOf(command, options);
  const registry = new ModelRegistry(registryDir(config));
  const record = await withPointers(config, async (table) => {
    const current = await currentOf(table, config.network);
    const next = rollback(current, config.network, options.by ?? osUser(), Date.now());
    await registry.verify(await registry.get(next.version));
    await table.put([{ key: config.network, value: encodePromoted(next) }]);
    return { next, from: current?.version };
  });
  process.stdout.write(
    `rolled back network ${record.next.network} from ${record.from} to ${record.next.version} (threshold ${round(record.next.threshold)})\n`,
  );
}

/** Writes the record that starts shadow-scoring `id` (undefined: stops the shadow); the records before and after. */
export async function writeShadow(
  config: Config,
  id: string | undefined,
  by: string,
): Promise<{ current: PromotedModel | undefined; next: PromotedModel }> {
  const registry = new ModelRegistry(registryDir(config));
  const version = id === undefined ? undefined : await registry.get(id);
  if (version) await registry.verify(version);
  return withPointers(config, async (table) => {
    const current = await currentOf(table, config.network);
    const next = version
      ? startShadow(current, version, { network: config.network, by, now: Date.now() })
      : stopShadow(current, config.network, Date.now());
    await table.put([{ key: config.network, value: encodePromoted(next) }]);
    return { current, next };
  });
}

/** The network's current record on the models topic (undefined: nothing promoted). */
export function readCurrentRecord(config: Config): Promise<PromotedModel | undefined> {
  return withPointers(config, (table) => currentOf(table, config.network));
}

/** The gate set by usePromotionGate, if any (the schedule compares with it). */
export function promotionGateInUse(): PromotionGate | undefined {
  return promotionGate;
}

async function shadowCommand(
  id: string | undefined,
  options: CommonFlags & { stop?: boolean; by?: string },
  command: Command,
): Promise<void> {
  const config = configOf(command, options);
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
  const model = program
    .command('model')
    .description('model registry: list, show, register, promote, roll back and shadow-score model versions')
    .addHelpText('after', EXAMPLES);
  const common = (command: Command): Command =>
    command
      .option('--network <name>', 'sensor network (config network)')
      .option('--registry <dir>', 'registry folder (config registry.dir, default <stateDir>/models)')
      .option('--topic <name>', 'models topic (config registry.topic, default wsn.models)');
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
