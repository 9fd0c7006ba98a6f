import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../common/errors.ts';
import { createLogger, type Logger } from '../common/log.ts';

/**
 * Chooses the TensorFlow.js backend the detector computes on, once at start-up.
 *
 * - `tensorflow`: native TensorFlow through @tensorflow/tfjs-node (its binding is
 *   built by scripts/install-tfjs-node.sh).
 * - `wasm`: @tensorflow/tfjs-backend-wasm (SIMD WebAssembly, pure npm).
 * - `cpu`: the plain JavaScript kernels of @tensorflow/tfjs.
 * - `auto`: the first of tensorflow, wasm, cpu that initialises.
 *
 * All of them drive the one @tensorflow/tfjs engine (tfjs-core keeps its engine
 * and kernel registry on the global object), so code that does
 * `import * as tf from '@tensorflow/tfjs'` runs on whatever this selected.
 * docs/native-tensorflow.md has the measurements behind the `auto` order.
 */
export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;

/** The order `auto` tries; the benchmark in bench/backends.ts justifies it. */
export const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface InitBackendOptions {
  /** Which backend to use; `auto` when omitted. Usually config `detector.backend` (env WSN_BACKEND). */
  backend?: BackendChoice;
  /**
   * Threads native TensorFlow runs one operation on (0 or omitted: its own choice, one per core). Usually config
   * `detector.modelThreads` (env WSN_MODEL_THREADS). Native TensorFlow reads it once, when this process first loads it;
   * TF_NUM_INTRAOP_THREADS set in the environment wins.
   */
  threads?: number;
  logger?: Logger;
}

export interface BackendSelection {
  /** The backend tfjs now runs on. */
  name: BackendName;
  requested: BackendChoice;
  /** The tfjs namespace; the same object as `import * as tf from '@tensorflow/tfjs'`. */
  tf: typeof tf;
  /** libtensorflow's version when `name` is `tensorflow`. */
  libtensorflowVersion?: string;
  /** Why backends earlier in the `auto` order were passed over. */
  skipped: { backend: BackendName; reason: string }[];
  /** Threads per operation of native TensorFlow as its environment sets them (undefined: its own choice). */
  threads?: number;
}

const requireFromHere = createRequire(import.meta.url);

/** Loaded (or failed) once per process: a native library cannot be unloaded and retried. */
let nativeLoad: Promise<string> | undefined;

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

/** Loads tfjs-node, which registers the `tensorflow` backend; resolves to libtensorflow's version. */
function loadNative(threads: number | undefined): Promise<string> {
  nativeLoad ??= (async () => {
    // libtensorflow logs a start-up banner at INFO level; keep its warnings.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
    // Read by libtensorflow when its first operation runs: set before the load.
    if (threads !== undefined && threads > 0) process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
    // Loading registers the `tensorflow` backend (activate() then selects it).
    await import('@tensorflow/tfjs-node');
    const binding = (tf.findBackend('tensorflow') as unknown as { binding?: { TF_Version?: string } } | null)?.binding;
    return binding?.TF_Version ?? 'unknown';
  })();
  return nativeLoad;
}

/** The threads per operation native TensorFlow was told to use (undefined: its own choice). */
function nativeThreads(): number | undefined {
  const threads = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(threads) && threads > 0 ? threads : undefined;
}

let wasmPathsSet = false;

/** Imports the wasm backend (importing registers it) and points it at its .wasm files on disk. */
async function prepareWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    const dist = path.join(path.dirname(requireFromHere.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    wasm.setWasmPaths(dist + path.sep);
    wasmPathsSet = true;
  }
}

/** Makes `name` the active backend or throws with the reason it cannot be. */
async function activate(name: BackendName, threads: number | undefined): Promise<string | undefined> {
  let version: string | undefined;
  if (name === 'tensorflow') version = await loadNative(threads);
  if (name === 'wasm') await prepareWasm();
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed to initialise it`);
  await tf.ready();
  return version;
}

const HINTS: Record<BackendName, string> = {
  tensorflow:
    'build the native binding with `bash scripts/install-tfjs-node.sh`, or choose another backend (WSN_BACKEND=auto|wasm|cpu)',
  wasm: 'reinstall dependencies with `npm ci`, or choose WSN_BACKEND=cpu',
  cpu: 'reinstall dependencies with `npm ci`',
};

/**
 * Selects and initialises the backend; logs one line `tensorflow backend: NAME`.
 * A forced backend that cannot start is a UserError (code BACKEND_UNAVAILABLE);
 * `auto` falls through to the next one and records why in `skipped`.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendSelection> {
  const requested = options.backend ?? 'auto';
  const logger = options.logger ?? createLogger('backend');
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  const skipped: BackendSelection['skipped'] = [];
  for (const name of candidates) {
    try {
      const libtensorflowVersion = await activate(name, options.threads);
      const threads = name === 'tensorflow' ? nativeThreads() : undefined;
      const asked = options.threads;
      if (name === 'tensorflow' && asked !== undefined && asked > 0 && threads !== asked) {
        // Native TensorFlow reads its thread count once per process: say so rather than run on another one silently.
        logger.warn(
          { askedThreads: asked, threads: threads ?? 'auto' },
          `native TensorFlow runs ${threads ?? 'its own choice of'} threads per operation, not the ${asked} asked for: TF_NUM_INTRAOP_THREADS in the environment, or an earlier load in this process, set it`,
        );
      }
      logger.info(
        { backend: name, requested, libtensorflowVersion, threads: threads ?? 'auto', skipped },
        `tensorflow backend: ${name}`,
      );
      return { name, requested, tf, libtensorflowVersion, skipped, threads };
    } catch (error) {
      if (requested !== 'auto') {
        throw new UserError(
          'BACKEND_UNAVAILABLE',
          `tensorflow backend '${name}' is not available: ${firstLine(error)}`,
          HINTS[name],
        );
      }
      skipped.push({ backend: name, reason: firstLine(error) });
    }
  }
  throw new UserError(
    'BACKEND_UNAVAILABLE',
    `no tensorflow backend could start (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`,
    HINTS.cpu,
  );
}
