import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json), whatever the working directory. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A path as the user gave it: relative to the working directory when it is
 * absolute or exists there, else relative to the repository. Lets a bundled
 * default (`models/default`, `../shared/data/ibrl`) work from any directory.
 */
export function resolveFromCwdOrRepo(given: string): string {
  const fromCwd = path.resolve(given);
  if (path.isAbsolute(given) || existsSync(fromCwd)) return fromCwd;
  return path.resolve(REPO_ROOT, given);
}
