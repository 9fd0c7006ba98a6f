// The project's vitest configuration plus suite-setup.ts, for running the whole
// suite on a chosen backend without changing vitest.config.ts:
//   WSN_BACKEND=tensorflow npx vitest run -c test/unit/model/backend/vitest.backend.config.ts
// (vitest.config.ts gains the same effect by listing suite-setup.ts in setupFiles.)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../../../vitest.config.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export default mergeConfig(
  base,
  defineConfig({
    root: repoRoot,
    test: { setupFiles: [path.join(repoRoot, 'test/unit/model/backend/suite-setup.ts')] },
  }),
);
