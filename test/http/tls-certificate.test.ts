// The TLS pair in-process: what readTlsPair refuses, expiry words past notAfter, handshake failures kept (docs/tls.md).
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { expiryProblem, readTlsPair, TlsCertificate, TlsPairError } from '../../gateway/src/transports/tls-certificate.js';
import { runCli, within } from '../helpers/gateway.js';
import { makeTestCa } from '../helpers/test-ca.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

test('a certificate file OpenSSL cannot use is refused naming the key and the file', (t) => {
  const ca = makeTestCa(t);
  const pair = ca.issue('gateway-r');
  const garbled = path.join(ca.dir, 'garbled.pem');
  writeFileSync(garbled, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
  const error = t.throws(() => readTlsPair({ certFile: garbled, keyFile: pair.key }), { instanceOf: TlsPairError });
  t.regex(error.message, /^http\.tls_cert_file .*garbled\.pem: not a readable certificate \(/);

  const badChain = path.join(ca.dir, 'bad-chain.pem');
  writeFileSync(badChain, Buffer.concat([readFileSync(pair.cert), readFileSync(garbled)]));
  const chain = t.throws(() => readTlsPair({ certFile: badChain, keyFile: pair.key }), { instanceOf: TlsPairError });
  t.regex(chain.message, /^http\.tls_cert_file .*bad-chain\.pem with http\.tls_key_file .*gateway-r\.key: refused by OpenSSL \(/);
});

test('past notAfter the problem says how long ago; far from it there is none; handshake failures keep the last reason', (t) => {
  const ca = makeTestCa(t);
  const pair = ca.issue('gateway-e', { days: 30 });
  let now = Date.now();
  const cert = new TlsCertificate({ files: { certFile: pair.cert, keyFile: pair.key }, now: () => now, logger: quiet });
  t.deepEqual(cert.problems(), []);
  t.is(expiryProblem(cert.info, now), null);
  now = cert.info.notAfterMs + 3 * 86_400_000 + 1000;
  t.deepEqual(cert.problems(), [`TLS certificate CN=gateway-e expired 3 days ago (${cert.info.notAfter}): renew it and reload`]);
  t.true(cert.expiresInS() < -3 * 86400);
  cert.handshakeFailed(new Error('socket hang up'));
  cert.handshakeFailed(Object.assign(new Error('SSL routines::sslv3 alert bad certificate'), { reason: 'sslv3 alert bad certificate' }));
  const view = cert.view();
  t.is(view.handshakeFailures, 2);
  t.like(view.lastHandshakeFailure, { reason: 'sslv3 alert bad certificate' });
  t.is(view.lastReload, null);
  t.false('notAfterMs' in view);
});

test('http.plain_port already in use stops the start naming that key', async (t) => {
  const ca = makeTestCa(t);
  const pair = ca.issue('gateway-busy');
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const busyPort = (holder.address() as { port: number }).port;
  const run = runCli(['run'], {
    env: {
      SPOT_GATEWAY_HTTP_PORT: '0',
      SPOT_GATEWAY_HTTP_HOST: '127.0.0.1',
      SPOT_GATEWAY_DATA_DIR: path.join(ca.dir, 'data'),
      SPOT_GATEWAY_HTTP_TLS_CERT_FILE: pair.cert,
      SPOT_GATEWAY_HTTP_TLS_KEY_FILE: pair.key,
      SPOT_GATEWAY_HTTP_PLAIN_PORT: String(busyPort),
    },
  });
  t.teardown(() => run.child.kill('SIGKILL'));
  t.is(await within(run.exited, 30000, 'the start on a busy plain port'), 1);
  t.regex(run.stdout(), new RegExp(`127\\.0\\.0\\.1:${busyPort} is already in use .*choose http\\.plain_port / SPOT_GATEWAY_HTTP_PLAIN_PORT`));
});
