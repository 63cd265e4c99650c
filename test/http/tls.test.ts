// The HTTPS listener (docs/tls.md): handshake against a CA made by the test, the plain listener beside it,
// certificate reload by SIGHUP while a post stays open, a refused pair, expiry, the shared connection bound.
import { copyFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import test from 'ava';
import { JSON_EVENTS, jsonLogLines, spawnGateway, SpotConnection, tempDir, waitFor, within, type ChildGateway, type Teardown } from '../helpers/gateway.js';
import { makeTestCa, type ServerPair } from '../helpers/test-ca.js';
import { jsonText, presence } from './events.js';

interface HttpsAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked by the assertions
  body: any;
  text: string;
  peer: PeerCertificate;
}

/** One request over a fresh HTTPS connection verified against `ca` (as `localhost`), bounded. */
function httpsRequest(port: number, pathAndQuery: string, ca: Buffer, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<HttpsAnswer> {
  const done = new Promise<HttpsAnswer>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', servername: 'localhost', port, path: pathAndQuery, method: init.method ?? 'GET', ca, agent: false, headers: init.headers }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate();
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // /metrics: text.
        }
        resolve({ status: res.statusCode ?? 0, body, text, peer });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
  return within(done, 10000, `https ${pathAndQuery}`);
}

/** The gateway's TLS files at fixed paths (replaced in place for the reload tests). */
function installPair(dir: string, pair: ServerPair): { cert: string; key: string } {
  const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
  copyFileSync(pair.cert, files.cert);
  copyFileSync(pair.key, files.key);
  return files;
}

async function tlsGateway(t: Teardown, files: { cert: string; key: string }, env: Record<string, string> = {}): Promise<ChildGateway> {
  return spawnGateway(t, {
    env: { SPOT_GATEWAY_DATA_DIR: tempDir(t), SPOT_GATEWAY_HTTP_TLS_CERT_FILE: files.cert, SPOT_GATEWAY_HTTP_TLS_KEY_FILE: files.key, ...env },
  });
}

function plainPortOf(gw: ChildGateway): number | null {
  const line = jsonLogLines<{ msg?: string; plainPort?: number | null }>(gw).find((l) => l.msg?.startsWith('listening'));
  return line?.plainPort ?? null;
}

/** A post over `conn` of the given presences (one chunk each), and its answer. */
async function postPresences(conn: SpotConnection, serial: number, ids: number[]): Promise<number> {
  await conn.startPost(serial, { headers: JSON_EVENTS });
  for (const i of ids) await conn.chunk(jsonText([presence(i)]));
  await conn.endPost();
  return (await conn.response()).status;
}

async function storedCodes(port: number, ca: Buffer, serial: number): Promise<string[]> {
  const res = await httpsRequest(port, `/api/events?spot=${serial}&limit=1000`, ca);
  return (res.body as Array<{ data: { item_code?: string } }>).map((e) => e.data.item_code ?? '');
}

const code = (i: number): string => presence(i).data.item_code as string;

test('a post over HTTPS verified against the test CA is stored; no plain listener unless configured; plain HTTP on the TLS port is closed and counted', async (t) => {
  const ca = makeTestCa(t);
  const gw = await tlsGateway(t, installPair(tempDir(t), ca.issue('gateway-a')), { SPOT_GATEWAY_HTTP_IDLE_TIMEOUT_MS: '1000' });

  const conn = new SpotConnection(gw.port, '127.0.0.1', { ca: ca.ca, servername: 'localhost' });
  t.teardown(() => conn.close());
  await conn.ready();
  const socket = conn.socket as TLSSocket;
  t.true(socket.authorized, `verified against the test CA: ${String(socket.authorizationError)}`);
  t.is(socket.getPeerCertificate().subject.CN, 'gateway-a');
  t.regex(socket.getProtocol() ?? '', /^TLSv1\.[23]$/);
  t.is(await postPresences(conn, 4711, [1, 2]), 200);
  t.deepEqual(await storedCodes(gw.port, ca.ca, 4711), [code(1), code(2)]);

  const status = await httpsRequest(gw.port, '/api/status', ca.ca);
  t.deepEqual(status.body.listeners, [{ protocol: 'https', host: '127.0.0.1', port: gw.port }], 'only the HTTPS listener');
  t.is(plainPortOf(gw), null);
  t.is(status.body.tls.subject, 'CN=gateway-a');
  t.is(status.body.tls.issuer, 'CN=test spot CA A');
  t.is(status.body.tls.minVersion, 'TLSv1.2');
  t.true(status.body.tls.expiresInS > 29 * 86400 && status.body.tls.expiresInS <= 30 * 86400, String(status.body.tls.expiresInS));

  // A client speaking plain HTTP to the TLS port: closed without an HTTP answer, not left hanging.
  const raw = net.connect({ port: gw.port, host: '127.0.0.1' });
  t.teardown(() => raw.destroy());
  let answer = '';
  raw.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  raw.on('error', () => {});
  raw.write('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await within(new Promise((resolve) => raw.once('close', resolve)), 5000, 'the TLS port to close a plain HTTP request');
  t.false(answer.startsWith('HTTP/'), `no HTTP answer in the clear: ${JSON.stringify(answer.slice(0, 40))}`);
  const after = await httpsRequest(gw.port, '/api/status', ca.ca);
  t.is(after.body.tls.handshakeFailures, 1);
  t.regex(after.body.tls.lastHandshakeFailure.reason, /http request/i);
  const metrics = await httpsRequest(gw.port, '/metrics', ca.ca);
  t.regex(metrics.text, /^spot_gateway_tls_handshake_failures_total 1$/m);
  t.regex(metrics.text, /^spot_gateway_tls_cert_expiry_seconds \d+$/m);
  t.is((await httpsRequest(gw.port, '/healthz', ca.ca)).body.status, 'ok');

  // A client that does not trust the certificate refuses it; the gateway counts the failed handshake.
  const other = makeTestCa(t, 'B');
  const refused = new SpotConnection(gw.port, '127.0.0.1', { ca: other.ca, servername: 'localhost' });
  t.teardown(() => refused.close());
  const error = await t.throwsAsync(refused.ready());
  t.regex(error.message, /unable to verify|self.signed|unable to get local issuer/i);
  await waitFor(async () => (await httpsRequest(gw.port, '/api/status', ca.ca)).body.tls.handshakeFailures === 2, 5000, 'the refused handshake counted');

  // TLS 1.1 (allowed on this client by lowering its own floor): refused by the gateway.
  const old = new SpotConnection(gw.port, '127.0.0.1', { ca: ca.ca, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
  t.teardown(() => old.close());
  await t.throwsAsync(old.ready());
  const third = await waitFor(async () => (await httpsRequest(gw.port, '/api/status', ca.ca)).body.tls, 5000, 'status');
  t.is(third.handshakeFailures, 3);
  t.regex(third.lastHandshakeFailure.reason, /unsupported protocol/);

  // A connection that never starts its handshake is closed after http.idle_timeout_ms (1 s here).
  const silent = net.connect({ port: gw.port, host: '127.0.0.1' });
  t.teardown(() => silent.destroy());
  silent.on('error', () => {});
  const openedAt = Date.now();
  await within(new Promise((resolve) => silent.once('close', resolve)), 10000, 'the silent connection to be closed');
  t.true(Date.now() - openedAt >= 900, `closed after ${Date.now() - openedAt} ms`);
  await waitFor(async () => (await httpsRequest(gw.port, '/api/status', ca.ca)).body.tls.handshakeFailures === 4, 5000, 'the timed-out handshake counted');
  t.is(await gw.kill('SIGTERM'), 0);
});

test('http.plain_port serves the same routes in plain HTTP beside HTTPS; max_connections bounds both listeners together', async (t) => {
  const ca = makeTestCa(t);
  const gw = await tlsGateway(t, installPair(tempDir(t), ca.issue('gateway-p')), { SPOT_GATEWAY_HTTP_PLAIN_PORT: '0', SPOT_GATEWAY_HTTP_MAX_CONNECTIONS: '2' });
  const plainPort = plainPortOf(gw);
  if (plainPort === null) return t.fail(`no plainPort in the listening line: ${gw.stdout()}`);
  t.not(plainPort, gw.port);

  const plain = new SpotConnection(plainPort);
  t.teardown(() => plain.close());
  t.is(await postPresences(plain, 4712, [1]), 200, 'a post over the plain listener');
  const secure = new SpotConnection(gw.port, '127.0.0.1', { ca: ca.ca, servername: 'localhost' });
  t.teardown(() => secure.close());
  t.is(await postPresences(secure, 4712, [2]), 200, 'and one over HTTPS');

  // Two connections open (one per listener): a third, on either port, is closed at once.
  for (const port of [plainPort, gw.port]) {
    const third = new SpotConnection(port);
    t.teardown(() => third.close());
    await third.closedByServer(5000);
    t.pass(`port ${port}: the third connection was closed`);
  }
  plain.close();
  await waitFor(async () => (await postPresences(secure, 4712, [3])) === 200, 5000, 'a post once a connection is free');
  t.deepEqual(await storedCodes(gw.port, ca.ca, 4712), [code(1), code(2), code(3)]);
  secure.close();
  // The gateway sees the close a moment later: until then a new connection is still one too many.
  const status = await waitFor(() => httpsRequest(gw.port, '/api/status', ca.ca).catch(() => undefined), 5000, 'a connection once the others closed');
  t.deepEqual(status.body.listeners, [
    { protocol: 'https', host: '127.0.0.1', port: gw.port },
    { protocol: 'http', host: '127.0.0.1', port: plainPort },
  ]);
  // A malformed request on the plain listener gets the same JSON answer as on the main one.
  const answer = await waitFor(
    async () => {
      const bad = new SpotConnection(plainPort);
      try {
        await bad.write(Buffer.from('GARBAGE\r\n\r\n'));
        return await bad.response();
      } catch {
        return undefined; // refused while the status connection was still counted
      } finally {
        bad.close();
      }
    },
    5000,
    'an answer to a malformed request on the plain listener',
  );
  t.is(answer.status, 400);
  t.regex(answer.body.toString(), /malformed HTTP request/);
  t.is(await gw.kill('SIGTERM'), 0);
});

test('SIGTERM drains both listeners: a post open on HTTPS and one on the plain port are both answered, then the gateway exits 0', async (t) => {
  const ca = makeTestCa(t);
  const gw = await tlsGateway(t, installPair(tempDir(t), ca.issue('gateway-d')), { SPOT_GATEWAY_HTTP_PLAIN_PORT: '0' });
  const plainPort = plainPortOf(gw);
  if (plainPort === null) return t.fail('no plain listener');
  const posts = [new SpotConnection(gw.port, '127.0.0.1', { ca: ca.ca, servername: 'localhost' }), new SpotConnection(plainPort)];
  for (const [i, conn] of posts.entries()) {
    t.teardown(() => conn.close());
    await conn.startPost(4720 + i, { headers: JSON_EVENTS });
    await conn.chunk(jsonText([presence(1)]));
  }
  await waitFor(async () => (await storedCodes(gw.port, ca.ca, 4720)).length === 1 && (await storedCodes(gw.port, ca.ca, 4721)).length === 1, 10000, 'both first events stored');
  gw.child.kill('SIGTERM');
  await waitFor(() => jsonLogLines<{ msg?: string }>(gw).some((l) => l.msg?.startsWith('stopping')), 10000, 'the stop to begin');
  for (const conn of posts) {
    await conn.chunk(jsonText([presence(2)]));
    await conn.endPost();
    const answer = await conn.response();
    t.is(answer.status, 200);
    t.is(answer.headers.connection, 'close');
  }
  t.is(await within(gw.exited, 10000, 'the gateway to exit'), 0);
  const stopped = jsonLogLines<{ msg?: string; openPosts?: number; cut?: number }>(gw).find((l) => l.msg === 'stopped');
  t.like(stopped, { openPosts: 2, cut: 0 });
});

test('SIGHUP reloads the certificate while a spot keeps a chunked post open: the post finishes with all its events, new connections get the new certificate; a broken pair keeps it', async (t) => {
  const ca = makeTestCa(t);
  const first = ca.issue('gateway-1', { serial: 0x1111 });
  const second = ca.issue('gateway-2', { serial: 0x2222 });
  const dir = tempDir(t);
  const files = installPair(dir, first);
  const gw = await tlsGateway(t, files);
  const tlsTo = { ca: ca.ca, servername: 'localhost' };

  const spot = new SpotConnection(gw.port, '127.0.0.1', tlsTo);
  t.teardown(() => spot.close());
  await spot.ready();
  t.is((spot.socket as TLSSocket).getPeerCertificate().serialNumber, first.serial);
  await spot.startPost(4713, { headers: JSON_EVENTS });
  await spot.chunk(jsonText([presence(1)]));
  await waitFor(async () => (await storedCodes(gw.port, ca.ca, 4713)).length === 1, 10000, 'the first event stored while the post is open');

  installPair(dir, second);
  gw.child.kill('SIGHUP');
  const reloaded = await waitFor(
    () => jsonLogLines<{ msg?: string; serial?: string }>(gw).find((l) => l.msg?.startsWith('TLS certificate reloaded')),
    10000,
    'the reload line',
  );
  t.is(reloaded.serial, second.serial);
  const fresh = await httpsRequest(gw.port, '/api/status', ca.ca);
  t.is(fresh.peer.serialNumber, second.serial, 'a new connection gets the new certificate');
  t.is(fresh.body.tls.serial, second.serial);
  t.is(fresh.body.tls.lastReload.ok, true);

  // The open post goes on over the connection made before the reload, on the old certificate.
  await spot.chunk(jsonText([presence(2)]));
  await spot.chunk(jsonText([presence(3)]));
  await spot.endPost();
  t.is((await spot.response()).status, 200);
  t.is((spot.socket as TLSSocket).getPeerCertificate().serialNumber, first.serial);
  t.deepEqual(await storedCodes(gw.port, ca.ca, 4713), [code(1), code(2), code(3)]);

  // A key of another certificate: refused, the running pair stays, /healthz says why until a good reload.
  copyFileSync(first.key, files.key);
  gw.child.kill('SIGHUP');
  const refusedLine = await waitFor(() => jsonLogLines<{ msg?: string; level?: number }>(gw).find((l) => l.msg?.startsWith('TLS reload refused')), 10000, 'the refusal line');
  t.is(refusedLine.level, 50, 'logged as an error');
  t.regex(refusedLine.msg ?? '', /http\.tls_key_file .*key\.pem does not belong to the certificate in http\.tls_cert_file .*cert\.pem; still serving CN=gateway-2, serial 2222/);
  const kept = await httpsRequest(gw.port, '/healthz', ca.ca);
  t.is(kept.peer.serialNumber, second.serial, 'the old certificate is still served');
  t.is(kept.body.status, 'degraded');
  t.regex(kept.body.reason, /TLS reload refused: http\.tls_key_file/);

  // Half-written: no PEM at all.
  writeFileSync(files.cert, 'not yet\n');
  gw.child.kill('SIGHUP');
  await waitFor(() => jsonLogLines<{ msg?: string }>(gw).some((l) => /TLS reload refused: http\.tls_cert_file .* holds no PEM certificate/.test(l.msg ?? '')), 10000, 'the no-PEM refusal');

  installPair(dir, first);
  gw.child.kill('SIGHUP');
  await waitFor(async () => (await httpsRequest(gw.port, '/healthz', ca.ca)).body.status === 'ok', 10000, '/healthz ok after a good reload');
  t.is((await httpsRequest(gw.port, '/api/status', ca.ca)).peer.serialNumber, first.serial);
  t.is(await gw.kill('SIGTERM'), 0);
});

test('a certificate under 14 days from expiry: warned at start, /healthz degraded, the gauge counts down to notAfter', async (t) => {
  const ca = makeTestCa(t);
  const gw = await tlsGateway(t, installPair(tempDir(t), ca.issue('gateway-short', { days: 5 })));
  const warned = jsonLogLines<{ msg?: string; level?: number }>(gw).find((l) => l.msg?.startsWith('TLS certificate CN=gateway-short expires in 4 days'));
  t.is(warned?.level, 40, `a warn line at start: ${gw.stdout()}`);
  const health = await httpsRequest(gw.port, '/healthz', ca.ca);
  t.is(health.body.status, 'degraded');
  t.regex(health.body.reason, /TLS certificate CN=gateway-short expires in 4 days \(\d{4}-\d\d-\d\dT[\d:.]+Z\): renew it and reload/);
  const metrics = await httpsRequest(gw.port, '/metrics', ca.ca);
  const seconds = Number(/^spot_gateway_tls_cert_expiry_seconds (\d+)$/m.exec(metrics.text)?.[1]);
  t.true(seconds > 5 * 86400 - 600 && seconds <= 5 * 86400, String(seconds));
  t.is(await gw.kill('SIGTERM'), 0);
});

test('a bad pair stops the start with the key and the reason', async (t) => {
  const ca = makeTestCa(t);
  const a = ca.issue('gateway-x');
  const b = ca.issue('gateway-y');
  const cases: Array<[{ cert: string; key: string }, RegExp]> = [
    [{ cert: a.cert, key: b.key }, /cannot start: http\.tls_key_file .*gateway-y\.key does not belong to the certificate in http\.tls_cert_file .*gateway-x\.pem/],
    [{ cert: path.join(ca.dir, 'missing.pem'), key: a.key }, /cannot start: http\.tls_cert_file .*missing\.pem: cannot read \(ENOENT\)/],
    [{ cert: a.key, key: a.key }, /cannot start: http\.tls_cert_file .*gateway-x\.key: holds no PEM certificate/],
    [{ cert: a.cert, key: a.cert }, /cannot start: http\.tls_key_file .*gateway-x\.pem: not an unencrypted PEM private key/],
  ];
  for (const [files, expected] of cases) {
    const error = await t.throwsAsync(tlsGateway(t, files));
    t.regex(error.message, expected);
  }
});
