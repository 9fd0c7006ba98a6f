import { userInfo } from 'node:os';

/** The OS user running the command: the default author of silences and feedback marks. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
