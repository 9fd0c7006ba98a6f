import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILE } from '../../model/index.ts';

/**
 * The threshold calibrated and stored with the model in `dir` (its
 * metadata), without loading the network: the dashboard only needs the
 * number, to colour probabilities as the detector judges them. Undefined
 * when the model is missing or stores none.
 */
export async function storedModelThreshold(dir: string): Promise<number | undefined> {
  try {
    const json = JSON.parse(await readFile(path.join(dir, MODEL_FILE), 'utf8')) as {
      metadata?: { threshold?: unknown };
    };
    const threshold = json.metadata?.threshold;
    return typeof threshold === 'number' && threshold >= 0 && threshold <= 1 ? threshold : undefined;
  } catch {
    return undefined;
  }
}
