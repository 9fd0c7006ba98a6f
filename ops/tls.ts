import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireExecutable } from './executables.ts';
import type { Progress } from './service.ts';

/**
 * A private CA for the local services, with a broker certificate for
 * 127.0.0.1/localhost and one client certificate, as PEM files: what
 * `services up --secure` gives Kafka (SASL_SSL with client certificates) and
 * what clients put in kafka.ssl. Made once with the openssl CLI and kept;
 * the keys are readable by their owner only.
 */
export interface TlsMaterial {
  dir: string;
  /** The CA certificate (kafka.ssl.ca; the broker's truststore). */
  ca: string;
  /** The broker's PKCS#8 key and certificate in one file (its PEM keystore). */
  serverPem: string;
  /** The client certificate and key (kafka.ssl.cert, kafka.ssl.key). */
  clientCert: string;
  clientKey: string;
}

export function tlsMaterialPaths(dir: string): TlsMaterial {
  const at = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: at('ca.pem'),
    serverPem: at('server.pem'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
  };
}

/** The material in `dir`, made first if any file is missing. */
export function ensureTlsMaterial(dir: string, progress: Progress = () => undefined, days = 825): TlsMaterial {
  const material = tlsMaterialPaths(dir);
  if ([material.ca, material.serverPem, material.clientCert, material.clientKey].every((file) => existsSync(file)))
    return material;
  const openssl = requireExecutable(['openssl'], 'making the TLS certificates of the local services');
  progress(`tls: making a private CA and certificates in ${dir}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    String(days),
    '-subj',
    '/CN=wsn-watch local CA',
  );
  const sign = (name: string, subject: string, extensions: string) => {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(path.join(dir, `${name}.ext`), extensions);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      String(days),
      '-extfile',
      `${name}.ext`,
    );
  };
  sign(
    'server',
    '/CN=127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  sign('client', '/CN=wsn-watch', 'extendedKeyUsage=clientAuth\n');
  writeFileSync(
    material.serverPem,
    readFileSync(path.join(dir, 'server.key'), 'utf8') + readFileSync(path.join(dir, 'server.crt'), 'utf8'),
    { mode: 0o600 },
  );
  return material;
}
