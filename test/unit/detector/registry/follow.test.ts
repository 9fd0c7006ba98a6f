import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../../common/config.ts';
import { UserError } from '../../../../common/errors.ts';
import { createLogger } from '../../../../common/log.ts';
import { REPO_ROOT } from '../../../../common/paths.ts';
import { RegistryFollower, type LoadedModel } from '../../../../detector/registry/follow.ts';
import {
  encodePromoted,
  promote,
  startShadow,
  stopShadow,
  MODELS_PARTITIONS,
} from '../../../../detector/registry/pointer.ts';
import { ModelRegistry, type ModelVersion } from '../../../../model/registry/store.ts';
import { MemoryTransport } from '../../../../transport/memory.ts';
import { waitFor } from '../../../support/wait.ts';

const BUNDLED = path.join(REPO_ROOT, 'models/default');

/** A logger whose lines the test reads. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('test', 'info', stream), lines: () => lines };
}

describe('RegistryFollower (registry folder + models topic on the in-process transport)', () => {
  let dir: string;
  let v1: ModelVersion;
  let v2: ModelVersion;
  const loaded: LoadedModel[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wsn-follow-'));
    const registry = new ModelRegistry(dir);
    v1 = await registry.register({ from: BUNDLED, network: 'lab', origin: 'test' });
    v2 = await registry.register({ from: BUNDLED, network: 'lab', origin: 'test', threshold: 0.9 });
  });
  afterAll(async () => {
    for (const slot of loaded) slot.dispose?.();
    await rm(dir, { recursive: true, force: true });
  });

  const configWith = (env: Record<string, string>): Config =>
    loadConfig({
      env: { WSN_NETWORK: 'lab', WSN_REGISTRY_DIR: dir, WSN_MODELS_TOPIC: 'models', ...env },
    });

  it('starts with the promoted version, follows a promotion and refuses one it cannot use, keeping the current', async () => {
    const transport = new MemoryTransport();
    const config = configWith({});
    const { logger, lines } = recordingLogger();
    const follower = new RegistryFollower({
      config: { ...config, registry: { ...config.registry, refreshMs: 100 } },
      transport,
      logger,
    });
    const none = await follower.loadPromoted().catch((error: unknown) => error);
    expect((none as UserError).code).toBe('MODEL_NOT_PROMOTED');

    const table = transport.table({ topic: 'models', partitions: MODELS_PARTITIONS });
    const first = promote(undefined, 'lab', v1, 'ana', 1_000);
    await table.put([{ key: 'lab', value: encodePromoted(first) }]);
    const start = await follower.loadPromoted();
    loaded.push(start);
    expect(start.version).toBe('v1');
    expect(start.policy.threshold).toBeCloseTo(v1.threshold, 10);
    // models/default stores its false-alert calibration, so the followed version adapts like `--model` does.
    expect(start.thresholdNote).toMatch(
      /^alert threshold 0\.78\d* \(calibrated and stored with the model v1; rises above it while healthy nodes score higher than on the model's validation, to keep 0\.05 false alerts per node-day \(half-life 12 h\)\)$/,
    );

    const promoted: LoadedModel[] = [];
    follower.follow({ onPromoted: async (slot) => void promoted.push(slot) });
    // A promotion of a version this registry does not hold: logged, nothing handed over.
    const ghost = { ...v2, id: 'v9', sha256: 'f'.repeat(64) };
    await table.put([{ key: 'lab', value: encodePromoted(promote(first, 'lab', ghost, 'ana', 2_000)) }]);
    await waitFor('the refusal', () => lines().some((line) => line.includes('cannot use model version v9')), 5_000);
    expect(promoted).toEqual([]);
    // An unreadable record: skipped with a warning.
    await table.put([{ key: 'lab', value: '{"network":"lab"}' }]);
    await waitFor('the warning', () => lines().some((line) => line.includes('unreadable record')), 5_000);
    // The real one: loaded with its own threshold.
    await table.put([{ key: 'lab', value: encodePromoted(promote(first, 'lab', v2, 'ben', 3_000)) }]);
    await waitFor('the promotion', () => promoted.length === 1, 10_000);
    loaded.push(...promoted);
    expect(promoted[0].version).toBe('v2');
    expect(promoted[0].policy.threshold).toBe(0.9);
    await follower.close();
    await table.close();
    await transport.close();
  });

  it('hands over the shadow version with its own calibrated threshold, and its end', async () => {
    const transport = new MemoryTransport();
    const config = configWith({ WSN_THRESHOLD: '0.6' });
    const table = transport.table({ topic: 'models', partitions: MODELS_PARTITIONS });
    const first = promote(undefined, 'lab', v1, 'ana', 1_000);
    await table.put([{ key: 'lab', value: encodePromoted(first) }]);
    const follower = new RegistryFollower({
      config: { ...config, registry: { ...config.registry, refreshMs: 100 } },
      transport,
      logger: createLogger('test', 'silent'),
      thresholdOrigin: { kind: 'environment', name: 'WSN_THRESHOLD' },
    });
    loaded.push(await follower.loadPromoted());
    const shadows: Array<string | undefined> = [];
    follower.follow({
      onPromoted: async () => undefined,
      onShadow: async (slot) => {
        shadows.push(slot ? `${slot.version}@${slot.policy.threshold}` : undefined);
        if (slot) loaded.push(slot);
      },
    });
    const shadowing = startShadow(first, v2, { network: 'lab', by: 'ana', now: 2_000 });
    await table.put([{ key: 'lab', value: encodePromoted(shadowing) }]);
    await waitFor('the shadow', () => shadows.length === 1, 10_000);
    // Not the user's 0.6 (that is the live model's): the candidate's calibrated one.
    expect(shadows).toEqual(['v2@0.9']);
    await table.put([{ key: 'lab', value: encodePromoted(stopShadow(shadowing, 'lab', 3_000)) }]);
    await waitFor('the end of the shadow', () => shadows.length === 2, 10_000);
    expect(shadows[1]).toBeUndefined();
    await follower.close();
    await table.close();
    await transport.close();
  });

  it("keeps the user's threshold over the promoted version's", async () => {
    const transport = new MemoryTransport();
    const config = configWith({ WSN_THRESHOLD: '0.6' });
    const table = transport.table({ topic: 'models', partitions: MODELS_PARTITIONS });
    await table.put([{ key: 'lab', value: encodePromoted(promote(undefined, 'lab', v2, 'ana', 1_000)) }]);
    const follower = new RegistryFollower({
      config,
      transport,
      logger: createLogger('test', 'silent'),
      thresholdOrigin: { kind: 'environment', name: 'WSN_THRESHOLD' },
    });
    const slot = await follower.loadPromoted();
    loaded.push(slot);
    expect(slot.policy.threshold).toBe(0.6);
    expect(slot.thresholdNote).toBe('alert threshold 0.6 (WSN_THRESHOLD)');
    await follower.close();
    await table.close();
    await transport.close();
  });
});
