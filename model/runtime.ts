import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendChoice } from './backend.ts';
import { createLogger } from '../common/log.ts';

export type BackendPreference = BackendChoice;

const log = createLogger('model');
let initialised: { requested: BackendChoice; name: string } | undefined;

/**
 * Makes sure a TensorFlow.js backend is ready (model/backend.ts picks
 * native TensorFlow, WASM or CPU) and returns its name. Once a backend runs,
 * asking again with `auto` keeps it. `threads`: native TensorFlow's threads
 * per operation (model/backend.ts), honoured when this first loads it.
 */
export async function ensureBackend(preference: BackendPreference = 'auto', threads?: number): Promise<string> {
  if (initialised && (preference === 'auto' || preference === initialised.name)) return tf.getBackend();
  const selection = await initBackend({ backend: preference, threads, logger: log });
  initialised = { requested: preference, name: selection.name };
  return selection.name;
}
