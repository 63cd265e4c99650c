// A CA, a broker certificate and a client certificate made with the openssl command line in a
// temp dir, for TLS tests; plus a second CA that signed nothing here (the "wrong CA").
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCerts {
  dir: string;
  caCert: string;
  /** A CA the broker's certificate does not chain to. */
  otherCaCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

function ca(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`]);
}

/** A key and a certificate signed by `caName`, with `altNames` (e.g. IP:127.0.0.1) when given. */
function leaf(dir: string, name: string, caName: string, altNames: string | null): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, altNames ? `subjectAltName=${altNames}\n` : 'basicConstraints=CA:FALSE\n');
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.crt`]);
}

/** `serverNames`: the broker certificate's subjectAltName, default IP:127.0.0.1. Removed at teardown. */
export function makeCerts(t: { teardown(fn: () => unknown): void }, serverNames = 'IP:127.0.0.1,DNS:localhost'): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), 'tls-certs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  ca(dir, 'ca');
  ca(dir, 'other-ca');
  leaf(dir, 'server', 'ca', serverNames);
  leaf(dir, 'client', 'ca', null);
  // Mosquitto, started as root, reads them as user "mosquitto".
  chmodSync(dir, 0o755);
  for (const f of ['ca.crt', 'server.crt', 'server.key']) chmodSync(path.join(dir, f), 0o644);
  const at = (f: string) => path.join(dir, f);
  return {
    dir,
    caCert: at('ca.crt'),
    otherCaCert: at('other-ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
  };
}
