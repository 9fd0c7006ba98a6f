/**
 * `wsn-watch model compare VERSION` and the gate of `model promote`: the
 * false alerts of the live model and the candidate over the last period
 * (detector/registry/compare.ts) and both models' live-path evaluation on
 * that period's stored history (evaluate.ts), side by side.
 */
import type { Config } from '../../common/config.ts';
import { DAY_MS } from '../../common/constants.ts';
import { UserError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { comparedPeriod, falseAlertsOf, shadowedPart } from '../../detector/registry/compare.ts';
import { formatComparison, gateVerdict, type Comparison, type GateVerdict } from '../../detector/registry/gate.ts';
import { withPointers } from '../../detector/registry/models-topic.ts';
import { readPromoted, type PromotedModel } from '../../detector/registry/pointer.ts';
import type { PromotionGate } from '../../detector/registry/promotion-gate.ts';
import { influxRows } from '../../detector/retrain/run.ts';
import { ensureBackend, loadDetector, type Detector } from '../../model/index.ts';
import { ModelRegistry, registryDir, type ModelVersion } from '../../model/registry/store.ts';
import { evaluateOnStoredHistory } from './evaluate.ts';

/** The gate's defaults: the last day, one seed, two faults of each kind. */
export const GATE_DEFAULTS = { sinceMs: DAY_MS, seed: 1, perKind: 2 } as const;

export interface CompareOptions {
  /** Length of the compared period, ms, ending at `until`. */
  sinceMs: number;
  /** End of the compared period (event time, UTC ms); default now. */
  until?: number;
  seed: number;
  /** Injected faults of each kind in the live-path evaluation. */
  perKind: number;
  progress: (message: string) => void;
}

export async function compareWithLive(
  config: Config,
  record: PromotedModel,
  candidate: ModelVersion,
  options: CompareOptions,
): Promise<{ comparison: Comparison; verdict: GateVerdict }> {
  const asked = comparedPeriod(record, config.network, candidate.id, options.sinceMs, options.until ?? Date.now());
  const rows = influxRows(config);
  const versions = { live: record.version, shadow: candidate.id };
  const shadowed = await shadowedPart(rows, asked, candidate.id, config.ingest.tickMs);
  if (!shadowed)
    options.progress(
      `${candidate.id} has no shadow points between ${new Date(asked.from).toISOString()} and ${new Date(asked.until).toISOString()}`,
    );
  const period = shadowed ?? asked;
  options.progress(
    `false alerts of ${versions.live} and ${versions.shadow} from ${new Date(period.from).toISOString()} to ${new Date(period.until).toISOString()}`,
  );
  const tallies = await falseAlertsOf(config, rows, period, versions, options.progress);
  const registry = new ModelRegistry(registryDir(config));
  await ensureBackend(config.detector.backend);
  const models: Array<{ version: string; model: Detector }> = [];
  try {
    for (const id of [versions.live, versions.shadow])
      models.push({ version: id, model: await loadDetector(registry.folder(await registry.get(id))) });
    const evaluation = shadowed
      ? await evaluateOnStoredHistory({
          config,
          rows,
          from: period.from,
          until: period.until,
          models,
          seed: options.seed,
          perKind: options.perKind,
          logger: createLogger('model-compare', 'warn'),
          progress: options.progress,
        })
      : { unavailable: `${candidate.id} was not shadow-scored in the period` };
    const comparison: Comparison = {
      ...period,
      ...tallies,
      evaluation: 'scores' in evaluation ? { live: evaluation.scores[0], shadow: evaluation.scores[1] } : evaluation,
    };
    return { comparison, verdict: gateVerdict(comparison) };
  } finally {
    for (const { model } of models) model.dispose();
  }
}

/** `model compare VERSION`: the registered version `id` against the network's promoted one. */
export async function compareCandidate(
  config: Config,
  id: string,
  options: CompareOptions,
): Promise<{ comparison: Comparison; verdict: GateVerdict }> {
  const candidate = await new ModelRegistry(registryDir(config)).get(id);
  const record = (await withPointers(config, (table) => readPromoted(table))).get(config.network);
  if (!record) throw new UserError('MODEL_NOT_PROMOTED', `no model version is promoted in network ${config.network}`);
  return compareWithLive(config, record, candidate, options);
}

/** The promotion gate of `model promote` and the retrain schedule: compareWithLive with the gate's defaults. */
export function livePathGate(progress: (message: string) => void): PromotionGate {
  return async (config, record, version, period) => {
    const { comparison, verdict } = await compareWithLive(config, record, version, {
      ...GATE_DEFAULTS,
      sinceMs: period.since ?? GATE_DEFAULTS.sinceMs,
      ...(period.until === undefined ? {} : { until: period.until }),
      progress,
    });
    return { pass: verdict.pass, report: formatComparison(comparison, verdict) };
  };
}
