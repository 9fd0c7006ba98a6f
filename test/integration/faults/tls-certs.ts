import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureTlsMaterial, type TlsMaterial } from '../../../ops/tls.ts';

/** A throw-away CA and certificates in a temporary folder (ops/tls.ts makes them). */
export type TestCerts = TlsMaterial;

export function makeTestCerts(): TestCerts {
  return ensureTlsMaterial(mkdtempSync(path.join(tmpdir(), 'wsn-tls-')), () => undefined, 2);
}
