/**
 * The promoted model of each network: one record per network (key = network)
 * on the compacted models topic (config registry.topic, `wsn.models`). A
 * record carries the versions promoted before it, so `rollback` needs nothing
 * but the newest record, which compaction keeps.
 */
import { UserError } from '../../common/errors.ts';
import type { KeyedTable } from '../../common/transport.ts';
import type { ModelVersion } from '../../model/registry/store.ts';

export const MODELS_PARTITIONS = 1;
/** Promotions remembered for rollback. */
const HISTORY_LIMIT = 50;

export interface Promotion {
  version: string;
  sha256: string;
  /** The version's calibrated threshold (what detectors use unless the user set one). */
  threshold: number;
  promotedAt: string;
  by: string;
}

export interface PromotedModel extends Promotion {
  network: string;
  action: 'promote' | 'rollback';
  /** The versions promoted before this one, oldest first: `rollback` returns to the last. */
  previous: Promotion[];
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
  return record as PromotedModel;
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
  return {
    network,
    version: version.id,
    sha256: version.sha256,
    threshold: version.threshold,
    promotedAt: new Date(now).toISOString(),
    by,
    action: 'promote',
    previous,
  };
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
  };
}

function promotionOf(record: PromotedModel): Promotion {
  const { version, sha256, threshold, promotedAt, by } = record;
  return { version, sha256, threshold, promotedAt, by };
}
