import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { UserError } from '../common/errors.ts';

const INSTALL_HINT = 'run `bash scripts/install-system.sh` (as root, or with sudo) to install the system packages';

/** Finds an executable on PATH, or returns undefined. */
export function findExecutable(name: string, envPath: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

/**
 * The first of `names` found on PATH; a UserError naming the missing program
 * otherwise. Debian names some binaries differently from upstream
 * (prometheus-alertmanager), hence several candidates.
 */
export function requireExecutable(names: readonly string[], what: string): string {
  for (const name of names) {
    const found = findExecutable(name);
    if (found) return found;
  }
  throw new UserError('SERVICE_BINARY_MISSING', `${names[0]} not found on PATH (needed for ${what})`, INSTALL_HINT);
}
