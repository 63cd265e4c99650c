// A certificate authority made by a test with the openssl command, in a temp dir: a CA and server pairs it signs.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir, type Teardown } from './gateway.js';

export interface ServerPair {
  cert: string;
  key: string;
  /** Hex, upper case, as node's X509Certificate and peer certificates give it. */
  serial: string;
}

export interface TestCa {
  dir: string;
  /** The CA certificate (PEM file) clients verify against. */
  caFile: string;
  ca: Buffer;
  /** A P-256 server certificate signed by the CA for DNS:localhost and IP:127.0.0.1, with its own key. */
  issue(name: string, options?: { days?: number; serial?: number }): ServerPair;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20000 });
}

/** A fresh CA ("test spot CA <label>"); removed with its temp dir at teardown. */
export function makeTestCa(t: Teardown, label = 'A'): TestCa {
  const dir = tempDir(t, 'spot-test-ca-');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-days', '30', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', `/CN=test spot CA ${label}`], dir);
  const caFile = path.join(dir, 'ca.pem');
  let next = 0x1000;
  return {
    dir,
    caFile,
    ca: readFileSync(caFile),
    issue: (name, options = {}) => {
      const serial = options.serial ?? next++;
      writeFileSync(path.join(dir, `${name}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
      openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
      openssl(
        ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial), '-days', String(options.days ?? 30), '-out', `${name}.pem`, '-extfile', `${name}.ext`],
        dir,
      );
      return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`), serial: serial.toString(16).toUpperCase() };
    },
  };
}
