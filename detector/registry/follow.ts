/**
 * What `detect --registry` does with the registry: loads the network's
 * promoted version at start, then re-reads the models topic every
 * `registry.refreshMs` and hands each newly promoted version, loaded and
 * checked, to the service. A promotion that cannot be used (unknown version,
 * files changed, another window or modalities) is logged and the detector
 * keeps scoring with what it has. The version the record names as shadow
 * is loaded the same way and handed over to be shadow-scored (with its own
 * calibrated threshold), or withdrawn when the shadow stops.
 */
import type { Config, ConfigOrigin } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { KeyedTable, Transport } from '../../common/transport.ts';
import type { Detector } from '../../model/index.ts';
import { ModelRegistry, registryDir } from '../../model/registry/store.ts';
import { budgetPriorOf } from '../alerts/false-alert-budget.ts';
import { alertPolicyFromConfig } from '../alerts/tracker.ts';
import { loadModelToServe } from '../service/load-model.ts';
import type { ModelSlot } from '../service/model-swap.ts';
import { describeThreshold, thresholdInForce } from '../service/threshold.ts';
import { MODELS_PARTITIONS, readPromoted, type PromotedModel, type ShadowRun } from './pointer.ts';

/** A model ready for the detector: the loaded weights, its version label and the alert policy in force with it. */
export interface LoadedModel extends ModelSlot {
  readonly model: Detector;
}

/** Builds the slot of a loaded model: the threshold is the user's when set, else the model's (threshold.ts). */
export function modelSlot(
  config: Config,
  model: Detector,
  version: string,
  thresholdOrigin: ConfigOrigin | undefined,
): LoadedModel {
  const threshold = thresholdInForce(config.detector.threshold, thresholdOrigin, {
    threshold: model.threshold,
    name: version,
  });
  return {
    version,
    model,
    // The threshold follows the version's false-alert budget on the stream, as with --model.
    policy: alertPolicyFromConfig(config, model.threshold, budgetPriorOf(model)),
    thresholdNote: describeThreshold(threshold, model),
    dispose: () => model.dispose(),
  };
}

/** A shadowing candidate: alerts with its own calibrated threshold (a user's detector.threshold is for the live model). */
export function shadowSlot(config: Config, model: Detector, version: string): LoadedModel {
  const calibrated = { ...config, detector: { ...config.detector, threshold: undefined } };
  return {
    version,
    model,
    // Same budget rule as the live model, so that `model compare` weighs like with like.
    policy: alertPolicyFromConfig(calibrated, model.threshold, budgetPriorOf(model)),
    thresholdNote: `alert threshold ${model.threshold} (calibrated and stored with the model ${version})`,
    dispose: () => model.dispose(),
  };
}

/** What the follower hands over: a newly promoted version, or the shadow to score (undefined: none any more). */
export interface FollowHandlers {
  onPromoted(slot: LoadedModel, record: PromotedModel): Promise<void>;
  onShadow?(slot: LoadedModel | undefined, run: ShadowRun | undefined): Promise<void>;
}

export interface RegistryFollowerOptions {
  config: Config;
  transport: Transport;
  logger: Logger;
  thresholdOrigin?: ConfigOrigin;
}

export class RegistryFollower {
  readonly registry: ModelRegistry;
  private readonly table: KeyedTable;
  private timer: NodeJS.Timeout | undefined;
  /** The newest promoted version this follower has acted on (loaded or refused). */
  private seen: string | undefined;
  /** The shadow version this follower has acted on ('' = none). */
  private seenShadow = '';
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly options: RegistryFollowerOptions) {
    this.registry = new ModelRegistry(registryDir(options.config));
    this.table = options.transport.table({ topic: options.config.registry.topic, partitions: MODELS_PARTITIONS });
  }

  /** The network's promoted version, loaded; UserError when none is promoted or it cannot be loaded. */
  async loadPromoted(): Promise<LoadedModel> {
    const { config } = this.options;
    await this.options.transport.ensureTopics([
      { topic: config.registry.topic, partitions: MODELS_PARTITIONS, compact: true },
    ]);
    const record = await this.current();
    if (!record)
      throw new UserError(
        'MODEL_NOT_PROMOTED',
        `no model version is promoted in network ${config.network} (models topic ${config.registry.topic})`,
        'promote one with `wsn-watch model promote VERSION` (`wsn-watch model list` shows them), or start detect with --model DIR',
      );
    this.seen = record.version;
    return this.load(record);
  }

  /** The network's shadow version at start, loaded (undefined: none, or it cannot be loaded, which is logged). */
  async loadShadow(): Promise<LoadedModel | undefined> {
    let loaded: LoadedModel | undefined;
    const record = await this.current();
    if (record) await this.followShadow(record, async (slot) => void (loaded = slot));
    return loaded;
  }

  /** Re-reads the topic every refreshMs: each newly promoted version that loads, and each change of shadow. */
  follow(handlers: FollowHandlers): void {
    const poll = (): void => {
      this.reading = this.reading.then(() => this.poll(handlers)).catch(() => undefined);
    };
    this.timer = setInterval(poll, this.options.config.registry.refreshMs);
    this.timer.unref();
    // At once too: a shadow named before the start begins with the first frames, not a refresh later.
    poll();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.reading;
    await this.table.close().catch(() => undefined);
  }

  private async poll(handlers: FollowHandlers): Promise<void> {
    const { logger } = this.options;
    let record: PromotedModel | undefined;
    try {
      record = await this.current();
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'cannot read the models topic; keeping the current model');
      return;
    }
    if (!record) return;
    await this.followPromoted(record, handlers.onPromoted);
    if (handlers.onShadow) await this.followShadow(record, handlers.onShadow);
  }

  private async followShadow(record: PromotedModel, onShadow: NonNullable<FollowHandlers['onShadow']>): Promise<void> {
    // The promoted version is live already: a shadow of it would score the same.
    const run = record.shadow?.version === record.version ? undefined : record.shadow;
    const wanted = run ? `${run.version}@${run.since}` : '';
    if (wanted === this.seenShadow) return;
    this.seenShadow = wanted;
    if (!run) {
      await onShadow(undefined, undefined);
      return;
    }
    this.options.logger.info(
      { version: run.version, since: run.since, by: run.by },
      `model version ${run.version} to shadow-score; loading it`,
    );
    try {
      const model = await this.loadVersion(run.version, run.sha256);
      await onShadow(shadowSlot(this.options.config, model, run.version), run);
    } catch (error) {
      const code = error instanceof UserError ? error.code : undefined;
      this.options.logger.error(
        { version: run.version, code, err: (error as Error).message },
        `cannot shadow-score model version ${run.version}; scoring goes on without a shadow`,
      );
      await onShadow(undefined, undefined);
    }
  }

  private async followPromoted(record: PromotedModel, onPromoted: FollowHandlers['onPromoted']): Promise<void> {
    const { logger } = this.options;
    if (record.version === this.seen) return;
    this.seen = record.version;
    logger.info(
      { version: record.version, action: record.action, by: record.by, at: record.promotedAt },
      `model version ${record.version} promoted; loading it`,
    );
    let slot: LoadedModel;
    try {
      slot = await this.load(record);
    } catch (error) {
      const code = error instanceof UserError ? error.code : undefined;
      logger.error(
        { version: record.version, code, err: (error as Error).message },
        `cannot use model version ${record.version}; keeping the current model`,
      );
      return;
    }
    await onPromoted(slot, record);
  }

  private async current(): Promise<PromotedModel | undefined> {
    const all = await readPromoted(this.table, (key, reason) =>
      this.options.logger.warn({ key, reason }, 'skipping an unreadable record of the models topic'),
    );
    return all.get(this.options.config.network);
  }

  /** Loads a promoted version from the registry folder, checking it is the one promoted and fits the deployment. */
  private async load(record: PromotedModel): Promise<LoadedModel> {
    const model = await this.loadVersion(record.version, record.sha256);
    return modelSlot(this.options.config, model, record.version, this.options.thresholdOrigin);
  }

  /** Loads a version named on the models topic, checking its files are the ones named and it fits the deployment. */
  private async loadVersion(id: string, sha256: string): Promise<Detector> {
    const { config } = this.options;
    const version = await this.registry.get(id);
    if (version.sha256 !== sha256)
      throw new UserError(
        'MODEL_VERSION_CORRUPT',
        `model version ${id} in ${this.registry.shown} is not the one named on the models topic (sha256 ${version.sha256.slice(0, 12)}… against ${sha256.slice(0, 12)}…)`,
        'every detector must see the same registry folder (registry.dir)',
      );
    await this.registry.verify(version);
    return loadModelToServe(this.registry.folder(version), config.detector, version.id);
  }
}
