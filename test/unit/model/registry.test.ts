import { mkdtemp, readFile, stat, writeFile, chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../common/errors.ts';
import { MODEL_FILE, WEIGHTS_FILE } from '../../../model/io.ts';
import { ModelRegistry, VERSION_FILE } from '../../../model/registry/store.ts';

/** A model folder with the metadata the registry reads (the weights are opaque bytes to it). */
async function modelFolder(threshold = 0.6): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wsn-registry-model-'));
  const metadata = {
    format: 'wsn-watch-detector/2',
    threshold,
    training: {
      dataSource: 'synthetic:nodes=4',
      bestEpoch: 2,
      history: [
        { epoch: 1, trainLoss: 1, validationLoss: 0.9, seconds: 1 },
        { epoch: 2, trainLoss: 0.8, validationLoss: 0.7, seconds: 1 },
      ],
      validation: { threshold: 0.4, precision: 0.9, recall: 0.8, f1: 0.85, injected: 10, clean: 20 },
    },
  };
  await writeFile(path.join(dir, MODEL_FILE), JSON.stringify({ format: 'wsn-watch-detector/2', metadata }));
  await writeFile(path.join(dir, WEIGHTS_FILE), Buffer.from([1, 2, 3, 4]));
  return dir;
}

async function emptyRegistry(): Promise<ModelRegistry> {
  return new ModelRegistry(path.join(await mkdtemp(path.join(tmpdir(), 'wsn-registry-')), 'models'));
}

describe('ModelRegistry', () => {
  it('registers immutable versions v1, v2… with parent, threshold, metrics and data range', async () => {
    const registry = await emptyRegistry();
    const from = await modelFolder();
    const first = await registry.register({
      from,
      network: 'lab',
      origin: 'train',
      dataRange: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z', samples: 2787 },
    });
    expect(first).toMatchObject({
      id: 'v1',
      network: 'lab',
      parent: null,
      threshold: 0.6,
      metrics: { f1: 0.85, precision: 0.9, recall: 0.8, validationLoss: 0.7 },
      dataRange: {
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-01-02T00:00:00.000Z',
        samples: 2787,
        source: 'synthetic:nodes=4',
      },
      path: 'v1',
    });
    // The same weights with another threshold: a new version whose parent is the newest of the network.
    const second = await registry.register({ from, network: 'lab', origin: 'model register', threshold: 0.9 });
    expect(second).toMatchObject({ id: 'v2', parent: 'v1', threshold: 0.9 });
    const stored = JSON.parse(await readFile(path.join(registry.folder(second), MODEL_FILE), 'utf8'));
    expect(stored.metadata.threshold).toBe(0.9);
    expect(second.sha256).not.toBe(first.sha256);
    // Another network's lineage is its own.
    expect(await registry.register({ from, network: 'other', origin: 'x' })).toMatchObject({ id: 'v3', parent: null });
    expect((await registry.list()).map((version) => version.id)).toEqual(['v1', 'v2', 'v3']);
    // Written read-only: a version does not change.
    for (const file of [MODEL_FILE, WEIGHTS_FILE, VERSION_FILE])
      expect((await stat(path.join(registry.folder(first), file))).mode & 0o222).toBe(0);
    await expect(registry.verify(first)).resolves.toBeUndefined();
  });

  it('refuses an unknown version, a missing folder, an unknown parent and files that changed', async () => {
    const registry = await emptyRegistry();
    const version = await registry.register({ from: await modelFolder(), network: 'lab', origin: 'x' });
    const unknown = await registry.get('v7').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(UserError);
    expect((unknown as UserError).code).toBe('MODEL_VERSION_UNKNOWN');
    expect((unknown as UserError).hint).toContain('v1');
    await expect(registry.register({ from: '/nonexistent/model', network: 'lab', origin: 'x' })).rejects.toThrow(
      /no model at/,
    );
    await expect(
      registry.register({ from: await modelFolder(), network: 'lab', origin: 'x', parent: 'v5' }),
    ).rejects.toThrow(/no model version "v5"/);
    expect((await registry.list()).map((v) => v.id)).toEqual(['v1']);
    const weights = path.join(registry.folder(version), WEIGHTS_FILE);
    await chmod(weights, 0o644);
    await writeFile(weights, Buffer.from([9, 9, 9, 9]));
    await expect(registry.verify(version)).rejects.toThrow(/changed since it was registered/);
  });

  it('gives concurrent registrations distinct ids and ignores half-written folders', async () => {
    const registry = await emptyRegistry();
    const from = await modelFolder();
    await mkdir(path.join(registry.dir, 'v1'), { recursive: true }); // a crash before version.json
    const versions = await Promise.all([1, 2, 3].map(() => registry.register({ from, network: 'lab', origin: 'x' })));
    expect(new Set(versions.map((version) => version.id)).size).toBe(3);
    expect(versions.map((version) => version.id)).not.toContain('v1');
    expect((await registry.list()).length).toBe(3);
  });
});
