// Vitest setup file (vitest.config.ts `setupFiles`): every test file runs on the
// backend the configuration selects, so `WSN_BACKEND=cpu npx vitest run` and
// `WSN_BACKEND=tensorflow npx vitest run` run the same suite on each backend.
// Logs `tensorflow backend: NAME` at info level even though tests are otherwise
// silent, so a CI log shows what the suite ran on.
import { loadConfig } from '../../../../common/config.ts';
import { createLogger } from '../../../../common/log.ts';
import { initBackend } from '../../../../model/backend.ts';

await initBackend({
  backend: loadConfig().detector.backend,
  logger: createLogger('backend', process.env.WSN_LOG_LEVEL ?? 'info'),
});
