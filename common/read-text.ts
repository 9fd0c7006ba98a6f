import { readFileSync } from 'node:fs';
import { UserError } from './errors.ts';

/**
 * A file a user named, read whole as UTF-8; a file that cannot be read is a
 * UserError with `code`, the reason, and `hint` (e.g. which flag named it).
 */
export function readUserTextFile(file: string, code: string, hint: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(code, `cannot read ${file}: ${(error as Error).message}`, hint);
  }
}
