/**
 * The promoted model of each network: one record per network (key = network)
 * on the compacted models topic (config registry.topic, `wsn.models`). A
 * record carries the versions promoted before it, so `rollback` needs nothing
 * but the newest record, which compaction keeps. It also names the candidate
 * version shadow-scored beside the promoted one, if any, and the shadows run
 * before (what the promotion gate looks at). Records written before shadows
 * existed have neither field and read as "no shadow".
 */
import { UserError } from '../../common/errors.ts';
import type { KeyedTable } from '../../common/transport.ts';
import type { ModelVersion } from '../../model/registry/store.ts';

export const MODELS_PARTITIONS = 1;
/** Promotions remembered for rollback, and ended shadows remembered for the promotion gate. */
const HISTORY_LIMIT = 50;

export interface Promotion {
  version: string;
  sha256: string;
  /** The version's calibrated threshold (what detectors use unless the user set one). */
  threshold: number;
  promotedAt: string;
  by: string;
}

/** A candidate version scored beside the promoted one on the live stream (`wsn-watch model shadow`). */
export interface ShadowRun {
  version: string;
  sha256: string;
  /** The candidate's calibrated threshold: its own alert tracker uses it. */
  threshold: number;
  /** When the shadow started (ISO). */
  since: string;
  by: string;
  /** When it ended (ISO): stopped, replaced by another shadow, or promoted. Absent while it runs. */
  until?: string;
}

export interface PromotedModel extends Promotion {
  network: string;
  action: 'promote' | 'rollback';
  /** The versions promoted before this one, oldest first: `rollback` returns to the last. */
  previous: Promotion[];
  /** The candidate shadow-scored now, if any. */
  shadow?: ShadowRun;
  /** Shadows that ended, oldest first. */
  shadowed?: ShadowRun[];
}

export function encodePromoted(record: PromotedModel): string {
  return JSON.stringify(record);
}

/** Parses a record of the models topic; throws naming the field that is wrong. */
export function decodePromoted(value: Buffer | string): PromotedModel {
  const record = JSON.parse(value.toString()) as Partial<PromotedModel>;
  const text = (field: keyof PromotedModel): void => {
    if (typeof record[field] !== 'string' || (record[field] as string).length === 0)
      throw new Error(`field "${field}" must be a non-empty string`);
  };
  (['network', 'version', 'sha256', 'promotedAt', 'by', 'action'] as const).forEach(text);
  if (typeof record.threshold !== 'number' || !(record.threshold >= 0 && record.threshold <= 1))
    throw new Error('field "threshold" must be a number in [0, 1]');
  if (!Array.isArray(record.previous)) throw new Error('field "previous" must be a list');
  if (record.shadow !== undefined) checkShadow(record.shadow, 'shadow');
  if (record.shadowed !== undefined && !Array.isArray(record.shadowed))
    throw new Error('field "shadowed" must be a list');
  return record as PromotedModel;
}

function checkShadow(shadow: unknown, field: string): void {
  const run = shadow as Partial<ShadowRun> | null;
  if (typeof run !== 'object' || run === null) throw new Error(`field "${field}" must be an object`);
  for (const key of ['version', 'sha256', 'since', 'by'] as const)
    if (typeof run[key] !== 'string' || run[key].length === 0)
      throw new Error(`field "${field}.${key}" must be a non-empty string`);
  if (typeof run.threshold !== 'number' || !(run.threshold >= 0 && run.threshold <= 1))
    throw new Error(`field "${field}.threshold" must be a number in [0, 1]`);
}

/** The promoted model per network; unreadable records are reported through `onBad` and skipped. */
export async function readPromoted(
  table: KeyedTable,
  onBad: (key: string, reason: string) => void = () => undefined,
): Promise<Map<string, PromotedModel>> {
  const out = new Map<string, PromotedModel>();
  for (const [key, value] of await table.readToEnd()) {
    try {
      out.set(key, decodePromoted(value));
    } catch (error) {
      onBad(key, (error as Error).message);
    }
  }
  return out;
}

/** The record that makes `version` the network's model; the current one goes onto the rollback list. */
export function promote(
  current: PromotedModel | undefined,
  network: string,
  version: ModelVersion,
  by: string,
  now: number,
): PromotedModel {
  if (current?.version === version.id)
    throw new UserError(
      'MODEL_ALREADY_PROMOTED',
      `model version ${version.id} is already the promoted one of network ${network} (since ${current.promotedAt})`,
    );
  const previous = current ? [...current.previous, promotionOf(current)].slice(-HISTORY_LIMIT) : [];
  const record: PromotedModel = {
    network,
    version: version.id,
    sha256: version.sha256,
    threshold: version.threshold,
    promotedAt: new Date(now).toISOString(),
    by,
    action: 'promote',
    previous,
    ...shadowsOf(current),
  };
  // The shadowing version promoted: it is live now, so its shadow ends.
  return record.shadow?.version === version.id ? endShadow(record, now) : record;
}

/** Who changes a network's record, and when. */
export interface RecordChange {
  network: string;
  by: string;
  now: number;
}

/** The record with `version` shadow-scored beside the promoted one (a shadow already running ends). */
export function startShadow(
  current: PromotedModel | undefined,
  version: ModelVersion,
  { network, by, now }: RecordChange,
): PromotedModel {
  if (!current)
    throw new UserError(
      'MODEL_NOT_PROMOTED',
      `no model version is promoted in network ${network}: a shadow is scored beside the promoted one`,
      'promote one first with `wsn-watch model promote VERSION`',
    );
  if (current.version === version.id)
    throw new UserError(
      'MODEL_SHADOW_IS_LIVE',
      `model version ${version.id} is the promoted one of network ${network}; shadow another version beside it`,
    );
  if (current.shadow?.version === version.id)
    throw new UserError(
      'MODEL_ALREADY_SHADOWING',
      `model version ${version.id} is already shadow-scored in network ${network} (since ${current.shadow.since})`,
    );
  const base = current.shadow ? endShadow(current, now) : current;
  const shadow: ShadowRun = {
    version: version.id,
    sha256: version.sha256,
    threshold: version.threshold,
    since: new Date(now).toISOString(),
    by,
  };
  return { ...base, shadow };
}

/** The record without its shadow; the run is remembered in `shadowed`. */
export function stopShadow(current: PromotedModel | undefined, network: string, now: number): PromotedModel {
  if (!current?.shadow)
    throw new UserError('MODEL_NO_SHADOW', `no model version is shadow-scored in network ${network}`);
  return endShadow(current, now);
}

function endShadow(record: PromotedModel, now: number): PromotedModel {
  const { shadow, ...rest } = record;
  if (!shadow) return record;
  const ended: ShadowRun = { ...shadow, until: new Date(now).toISOString() };
  return { ...rest, shadowed: [...(record.shadowed ?? []), ended].slice(-HISTORY_LIMIT) };
}

/** The shadow fields a new record takes over from the current one. */
function shadowsOf(current: PromotedModel | undefined): Pick<PromotedModel, 'shadow' | 'shadowed'> {
  return {
    ...(current?.shadow ? { shadow: current.shadow } : {}),
    ...(current?.shadowed ? { shadowed: current.shadowed } : {}),
  };
}

/** The newest shadow run of a version (running or ended), if it ever shadowed in this network. */
export function shadowRunOf(record: PromotedModel | undefined, version: string): ShadowRun | undefined {
  if (record?.shadow?.version === version) return record.shadow;
  return record?.shadowed?.filter((run) => run.version === version).at(-1);
}

/** The record that goes back to the version promoted before the current one. */
export function rollback(current: PromotedModel | undefined, network: string, by: string, now: number): PromotedModel {
  const back = current?.previous.at(-1);
  if (!current || !back)
    throw new UserError(
      'MODEL_NO_PREVIOUS',
      current
        ? `network ${network} has had no model version before ${current.version}: nothing to roll back to`
        : `no model version is promoted in network ${network}`,
      'promote a version with `wsn-watch model promote VERSION`',
    );
  return {
    ...back,
    network,
    promotedAt: new Date(now).toISOString(),
    by,
    action: 'rollback',
    previous: current.previous.slice(0, -1),
    ...shadowsOf(current),
  };
}

function promotionOf(record: PromotedModel): Promotion {
  const { version, sha256, threshold, promotedAt, by } = record;
  return { version, sha256, threshold, promotedAt, by };
}
