import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { storedModelThreshold } from '../../../dashboards/web/model-threshold.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('storedModelThreshold', () => {
  it('reads the calibrated threshold from a model’s metadata without loading the network', async () => {
    const threshold = await storedModelThreshold(path.join(repoRoot, 'models/default'));
    expect(threshold).toBeGreaterThan(0);
    expect(threshold).toBeLessThan(1);
    expect(threshold).not.toBe(0.5);
  });

  it('is undefined for a missing model or one without a usable threshold', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'model-threshold-'));
    expect(await storedModelThreshold(dir)).toBeUndefined();
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ metadata: { threshold: 7 } }));
    expect(await storedModelThreshold(dir)).toBeUndefined();
  });
});
