import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILE } from '../../model/io.ts';

/** What `model show` prints about a version's model: its modalities and window, from its model.json. */
export interface ModelShape {
  modalities: string[];
  window: number;
}

/** The shape stored in the model.json of a version's folder; undefined when it cannot be read. */
export function readModelShape(folder: string): Promise<ModelShape | undefined> {
  return readFile(path.join(folder, MODEL_FILE), 'utf8')
    .then((text) => (JSON.parse(text) as { metadata?: { config: ModelShape } }).metadata?.config)
    .catch(() => undefined);
}
