/**
 * The model registry on disk: every registered model is an immutable version
 * `v<N>` (a folder holding model.json, weights.bin and version.json, written
 * read-only). Which version a network runs is not kept here but on the
 * compacted models topic (detector/registry/pointer.ts), so every detector
 * replica learns of a promotion.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../common/errors.ts';
import { REPO_ROOT } from '../../common/paths.ts';
import { MODEL_FILE, WEIGHTS_FILE } from '../io.ts';
import type { DetectorMetadata } from '../metadata.ts';

export const VERSION_FILE = 'version.json';
const VERSION_ID = /^v(\d+)$/;

/** The training data a version learnt from, as far as it is known. */
export interface DataRange {
  /** First and last tick of the training data (ISO), when the data had times. */
  from: string | null;
  to: string | null;
  /** Samples (ticks) of training + validation data. */
  samples: number | null;
  /** Where the data came from (the training record's data source). */
  source: string;
}

/** Validation figures stored with the model (absent when the model has no training record). */
export interface VersionMetrics {
  f1?: number;
  precision?: number;
  recall?: number;
  /** False-alert budget the threshold was calibrated for, alerts per healthy node and day. */
  falseAlertBudget?: number;
  /** Clean validation excursions above the calibration level (what the budget was solved on). */
  cleanExcursions?: number;
  /** Best validation loss of the training run. */
  validationLoss?: number;
}

/** One immutable registered model. */
export interface ModelVersion {
  id: string;
  /** When it was registered (ISO). */
  created: string;
  network: string;
  /** The version it is meant to follow (default: the newest one of the network when it was registered). */
  parent: string | null;
  dataRange: DataRange;
  metrics: VersionMetrics;
  /** The calibrated alert threshold the detector uses with it unless the user set one. */
  threshold: number;
  /** Folder of the files, relative to the registry folder (= id). */
  path: string;
  /** sha256 of model.json and weights.bin: a detector refuses a copy of the registry that differs. */
  sha256: string;
  /** What registered it, e.g. "train --synthetic" or "model register models/default". */
  origin: string;
  note?: string;
  /** Set by `wsn-watch retrain`: the stored node-ticks it read and which it left out of training. */
  exclusions?: TrainingExclusions;
}

/** What a retraining on stored history left out (node-ticks; each counted once, under the first reason). */
export interface TrainingExclusions {
  nodeTicks: number;
  kept: number;
  alerted: number;
  silenced: number;
  confirmed: number;
  /** Alerted node-ticks kept as clean data: their alert was marked a false alarm. */
  falseAlarmsKept: number;
  /** Ticks left out either side of an alerted or silenced node-tick and a confirmed alert. */
  marginTicks: number;
}

export interface RegisterInput {
  /** Folder holding model.json and weights.bin. */
  from: string;
  network: string;
  origin: string;
  /** Explicit parent; undefined = the newest version of the network; null = none. */
  parent?: string | null;
  /** Overrides the stored threshold (a copy of the same weights with another threshold is a new version). */
  threshold?: number;
  dataRange?: Partial<DataRange>;
  note?: string;
  exclusions?: TrainingExclusions;
}

/** The registry folder: `registry.dir`, else `<stateDir>/models` (a relative stateDir is the repository's, as for the services). */
export function registryDir(config: { stateDir: string; registry: { dir: string } }): string {
  return config.registry.dir ? path.resolve(config.registry.dir) : path.resolve(REPO_ROOT, config.stateDir, 'models');
}

export class ModelRegistry {
  /** The folder as messages show it: relative to the working directory when inside it. */
  readonly shown: string;

  constructor(readonly dir: string) {
    const relative = path.relative(process.cwd(), dir);
    this.shown = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
  }

  /** A version's folder as messages show it. */
  shownFolder(version: ModelVersion): string {
    return path.join(this.shown, version.path);
  }

  /** Every version, oldest first. */
  async list(): Promise<ModelVersion[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    const ids = entries.filter((name) => VERSION_ID.test(name)).sort((a, b) => versionNumber(a) - versionNumber(b));
    const versions: ModelVersion[] = [];
    for (const id of ids) {
      const text = await readFile(path.join(this.dir, id, VERSION_FILE), 'utf8').catch(() => undefined);
      // A folder without version.json is a registration that crashed half-way: not a version.
      if (text !== undefined) versions.push(JSON.parse(text) as ModelVersion);
    }
    return versions;
  }

  /** One version; UserError naming the known ones when it does not exist. */
  async get(id: string): Promise<ModelVersion> {
    const versions = await this.list();
    const found = versions.find((version) => version.id === id);
    if (found) return found;
    const known = versions.map((version) => version.id);
    throw new UserError(
      'MODEL_VERSION_UNKNOWN',
      `no model version "${id}" in the registry ${this.shown}`,
      known.length > 0
        ? `known versions: ${known.join(', ')} (\`wsn-watch model list\`)`
        : 'the registry is empty: register a model with `wsn-watch train` or `wsn-watch model register DIR`',
    );
  }

  /** The folder of a version's model.json and weights.bin. */
  folder(version: ModelVersion): string {
    return path.join(this.dir, version.path);
  }

  /** Checks that a version's files are the ones registered (same sha256). */
  async verify(version: ModelVersion): Promise<void> {
    const actual = await modelDigest(this.folder(version));
    if (actual !== version.sha256)
      throw new UserError(
        'MODEL_VERSION_CORRUPT',
        `the files of model version ${version.id} in ${this.shownFolder(version)} changed since it was registered (sha256 ${actual.slice(0, 12)}…, registered ${version.sha256.slice(0, 12)}…)`,
        'a version is immutable: register the changed model as a new version instead',
      );
  }

  /** Copies a model folder into the registry as the next version `v<N>`; returns its record. */
  async register(input: RegisterInput): Promise<ModelVersion> {
    const metadata = await readMetadata(input.from);
    await mkdir(this.dir, { recursive: true });
    const staging = path.join(this.dir, `.staging-${randomUUID().slice(0, 8)}`);
    await mkdir(staging);
    try {
      const threshold = input.threshold ?? metadata.threshold;
      await copyModel(input.from, staging, input.threshold === undefined ? undefined : { ...metadata, threshold });
      const parent = input.parent === undefined ? await this.newestOf(input.network) : input.parent;
      if (parent) await this.get(parent);
      const base: Omit<ModelVersion, 'id' | 'path'> = {
        created: new Date().toISOString(),
        network: input.network,
        parent,
        dataRange: dataRangeOf(metadata, input.dataRange),
        metrics: metricsOf(metadata),
        threshold,
        sha256: await modelDigest(staging),
        origin: input.origin,
        ...(input.note ? { note: input.note } : {}),
        ...(input.exclusions ? { exclusions: input.exclusions } : {}),
      };
      return await this.publish(staging, base);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Renames the staged folder to the next free `v<N>` (a rename onto an existing version fails, so two registrations never share one). */
  private async publish(staging: string, base: Omit<ModelVersion, 'id' | 'path'>): Promise<ModelVersion> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const taken = (await readdir(this.dir)).filter((name) => VERSION_ID.test(name)).map(versionNumber);
      const id = `v${Math.max(0, ...taken) + 1 + attempt}`;
      const version: ModelVersion = { id, ...base, path: id };
      // Removed first: an earlier attempt left it read-only.
      await rm(path.join(staging, VERSION_FILE), { force: true });
      await writeFile(path.join(staging, VERSION_FILE), `${JSON.stringify(version, null, 1)}\n`);
      for (const file of [MODEL_FILE, WEIGHTS_FILE, VERSION_FILE]) await chmod(path.join(staging, file), 0o444);
      const target = path.join(this.dir, id);
      if (existsSync(target)) continue;
      try {
        await rename(staging, target);
        return version;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
    }
    throw new Error(`could not find a free version id in ${this.dir}`);
  }

  private async newestOf(network: string): Promise<string | null> {
    const versions = (await this.list()).filter((version) => version.network === network);
    return versions.at(-1)?.id ?? null;
  }
}

function versionNumber(id: string): number {
  return Number(VERSION_ID.exec(id)?.[1] ?? 0);
}

async function readMetadata(dir: string): Promise<DetectorMetadata> {
  const file = path.join(dir, MODEL_FILE);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UserError('MODEL_NOT_FOUND', `no model at ${file}`, 'give a folder holding model.json and weights.bin');
  });
  try {
    return (JSON.parse(text) as { metadata: DetectorMetadata }).metadata;
  } catch (error) {
    throw new UserError('MODEL_CORRUPT', `${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Copies model.json (rewritten with `metadata` when given) and weights.bin. */
async function copyModel(from: string, to: string, metadata: DetectorMetadata | undefined): Promise<void> {
  await copyFile(path.join(from, WEIGHTS_FILE), path.join(to, WEIGHTS_FILE)).catch(() => {
    throw new UserError('MODEL_NOT_FOUND', `no weights at ${path.join(from, WEIGHTS_FILE)}`);
  });
  if (!metadata) {
    await copyFile(path.join(from, MODEL_FILE), path.join(to, MODEL_FILE));
    return;
  }
  const json = JSON.parse(await readFile(path.join(from, MODEL_FILE), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(to, MODEL_FILE), `${JSON.stringify({ ...json, metadata }, null, 1)}\n`);
}

/** sha256 over model.json and weights.bin, in that order. */
export async function modelDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [MODEL_FILE, WEIGHTS_FILE]) hash.update(await readFile(path.join(dir, file)));
  return hash.digest('hex');
}

function dataRangeOf(metadata: DetectorMetadata, given: Partial<DataRange> | undefined): DataRange {
  const training = metadata.training;
  return {
    from: given?.from ?? null,
    to: given?.to ?? null,
    samples: given?.samples ?? null,
    source: given?.source ?? training?.dataSource ?? 'unknown',
  };
}

function metricsOf(metadata: DetectorMetadata): VersionMetrics {
  const training = metadata.training;
  if (!training) return {};
  const validation = training.validation;
  const best = training.history.find((epoch) => epoch.epoch === training.bestEpoch);
  return {
    f1: validation.f1,
    precision: validation.precision,
    recall: validation.recall,
    ...(validation.falseAlerts
      ? { falseAlertBudget: validation.falseAlerts.perNodeDay, cleanExcursions: validation.falseAlerts.excursions }
      : {}),
    ...(best ? { validationLoss: best.validationLoss } : {}),
  };
}
