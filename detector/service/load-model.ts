/** Loading a trained model to serve: the same steps at the detector's start and at a registry swap. */
import type { Config } from '../../common/config.ts';
import { loadDetector, type Detector } from '../../model/index.ts';
import { checkModel, serveModel } from './model.ts';

/**
 * Loads the model in `dir`, sets what the detector service sets on it (its
 * clusters per native call), and refuses it when it cannot score this
 * deployment's frames; a refused model's tensors are released before the
 * error is thrown. `source` names the model in that error.
 */
export async function loadModelToServe(
  dir: string,
  settings: Pick<Config['detector'], 'modalities' | 'window' | 'modelClustersPerCall'>,
  source: string,
): Promise<Detector> {
  const model = await loadDetector(dir);
  serveModel(model, settings);
  try {
    checkModel(model, { modalities: settings.modalities, window: settings.window }, source);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
