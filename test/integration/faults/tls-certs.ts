import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A throw-away CA with a server certificate for 127.0.0.1 and a client
 * certificate, made with the openssl CLI, as PEM files in a temporary folder.
 * `serverPem` holds the server's key (PKCS#8) and certificate, the form
 * Kafka's PEM keystore reads.
 */
export interface TestCerts {
  dir: string;
  ca: string;
  serverPem: string;
  clientCert: string;
  clientKey: string;
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsn-tls-'));
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=wsn-watch test CA');
  const sign = (name: string, subject: string, extensions: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(at(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  };
  sign('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  sign('client', '/CN=wsn-watch', 'extendedKeyUsage=clientAuth\n');
  writeFileSync(at('server.pem'), readFileSync(at('server.key'), 'utf8') + readFileSync(at('server.crt'), 'utf8'));
  return { dir, ca: at('ca.pem'), serverPem: at('server.pem'), clientCert: at('client.crt'), clientKey: at('client.key') };
}
