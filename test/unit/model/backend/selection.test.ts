import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nativeBindingBuilt } from './native-binding.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const fixture = path.join(here, 'fixtures/select-backend.ts');
const hideNative = path.join(here, 'fixtures/hide-tfjs-node.mjs');

interface Outcome {
  name?: string;
  active?: string;
  sum?: number;
  skipped?: string[];
  threads?: number;
  processThreads?: number;
  code?: string;
  message?: string;
  hint?: string;
}

/**
 * Selects a backend in a fresh process, as a service would at start-up: a
 * native library, once loaded, stays loaded, so each case needs its own process.
 */
async function select(env: Record<string, string>, options: { hideNative?: boolean } = {}) {
  const args = ['--import', 'tsx', ...(options.hideNative ? ['--import', hideNative] : []), fixture];
  const childEnv: NodeJS.ProcessEnv = { ...process.env, WSN_LOG_LEVEL: 'info' };
  delete childEnv.VITEST;
  delete childEnv.TF_NUM_INTRAOP_THREADS;
  Object.assign(childEnv, env);
  const { stdout, stderr } = await run(process.execPath, args, { cwd: repoRoot, env: childEnv });
  return { outcome: JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Outcome, stderr };
}

describe('initBackend honours WSN_BACKEND', () => {
  it('runs on the plain JavaScript kernels when WSN_BACKEND=cpu, and logs the choice', async () => {
    const { outcome, stderr } = await select({ WSN_BACKEND: 'cpu' });
    expect(outcome).toMatchObject({ name: 'cpu', active: 'cpu', sum: 5 });
    expect(stderr).toContain('tensorflow backend: cpu');
  });

  it('runs on WebAssembly when WSN_BACKEND=wasm', async () => {
    const { outcome, stderr } = await select({ WSN_BACKEND: 'wasm' });
    expect(outcome).toMatchObject({ name: 'wasm', active: 'wasm', sum: 5 });
    expect(stderr).toContain('tensorflow backend: wasm');
  });

  it('runs on native TensorFlow when WSN_BACKEND=tensorflow and the binding is built, else says how to build it', async () => {
    const { outcome } = await select({ WSN_BACKEND: 'tensorflow' });
    if (nativeBindingBuilt()) {
      expect(outcome).toMatchObject({ name: 'tensorflow', active: 'tensorflow', sum: 5 });
    } else {
      expect(outcome.code).toBe('BACKEND_UNAVAILABLE');
      expect(outcome.hint).toContain('scripts/install-tfjs-node.sh');
    }
  });

  it('prefers native TensorFlow under auto when the binding is built', async () => {
    const { outcome } = await select({ WSN_BACKEND: 'auto' });
    expect(outcome.name).toBe(nativeBindingBuilt() ? 'tensorflow' : 'wasm');
    expect(outcome.active).toBe(outcome.name);
  });

  it('rejects a value that is not a backend, naming the setting', async () => {
    const { outcome } = await select({ WSN_BACKEND: 'gpu' });
    expect(outcome.code).toBe('CONFIG_INVALID');
    expect(outcome.message).toContain('detector.backend');
  });
});

describe('native TensorFlow threads (detector.modelThreads)', () => {
  it('runs one operation on one thread by default, on one per core with 0, and the environment wins', async () => {
    const one = await select({ WSN_BACKEND: 'tensorflow' });
    if (!nativeBindingBuilt()) {
      expect(one.outcome.code).toBe('BACKEND_UNAVAILABLE');
      return;
    }
    const perCore = await select({ WSN_BACKEND: 'tensorflow', WSN_MODEL_THREADS: '0' });
    const fromEnv = await select({ WSN_BACKEND: 'tensorflow', TF_NUM_INTRAOP_THREADS: '3' });
    expect(one.outcome.threads).toBe(1);
    expect(one.stderr).toMatch(/"threads":1\b/);
    expect(perCore.outcome.threads).toBeUndefined();
    expect(perCore.stderr).toContain('"threads":"auto"');
    expect(fromEnv.outcome.threads).toBe(3);
    // The setting asked for one thread: the process says it runs another number, and why.
    expect(fromEnv.stderr).toContain('runs 3 threads per operation, not the 1 asked for');
    expect(one.stderr).not.toContain('asked for');
    // libtensorflow starts a thread per core for its operations unless told otherwise.
    expect(one.outcome.processThreads).toBeLessThan(fromEnv.outcome.processThreads!);
  });
});

describe('initBackend without the native binding', () => {
  it('fails clearly when tensorflow is forced, with the install script as the hint', async () => {
    const { outcome } = await select({ WSN_BACKEND: 'tensorflow' }, { hideNative: true });
    expect(outcome.code).toBe('BACKEND_UNAVAILABLE');
    expect(outcome.message).toContain("tensorflow backend 'tensorflow' is not available");
    expect(outcome.message).toContain('Cannot find package @tensorflow/tfjs-node');
    expect(outcome.hint).toContain('bash scripts/install-tfjs-node.sh');
  });

  it('falls back to wasm under auto and records why tensorflow was passed over', async () => {
    const { outcome, stderr } = await select({ WSN_BACKEND: 'auto' }, { hideNative: true });
    expect(outcome).toMatchObject({ name: 'wasm', active: 'wasm', sum: 5, skipped: ['tensorflow'] });
    expect(stderr).toContain('tensorflow backend: wasm');
  });
});
