/**
 * The hook through which `model promote` and the retrain schedule apply the
 * promotion gate (gate.ts), and the check `model promote` makes with it. The
 * gate itself is set by the layer that can run the live-path evaluation
 * (embedded/model-gate).
 */
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import type { ModelVersion } from '../../model/registry/store.ts';
import { readCurrentRecord } from './models-topic.ts';
import { shadowRunOf, type PromotedModel } from './pointer.ts';

/**
 * Judges the promotion of a version that was shadow-scored: the comparison
 * with the live model as printed, and whether it passes. Set by the layer
 * that can run the live-path evaluation (embedded/model-gate).
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

/** The gate set by usePromotionGate, if any (the schedule compares with it). */
export function promotionGateInUse(): PromotionGate | undefined {
  return promotionGate;
}

/**
 * A version that shadowed is promoted only when the gate passes (or with
 * --force, said so); one that never shadowed is promoted as asked, with a
 * note: the gate judges shadow results and it has none.
 */
export async function checkGate(
  config: Config,
  version: ModelVersion,
  options: GatePeriod & { force?: boolean },
): Promise<void> {
  const current = await readCurrentRecord(config);
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
