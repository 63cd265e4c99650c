// The spot-server upstream's HTTP client against real local servers: chunked posts, answers, bounds, TLS.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { JSON_CONTENT_TYPE } from '../../gateway/src/protocol/index.js';
import { Poster } from '../../gateway/src/upstream/spot-server/index.js';
import { makeCerts } from '../helpers/tls-certs.js';

async function scriptedServer(t: { teardown(fn: () => unknown): void }, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix/`;
}

test('the poster: chunked posts under the URL\'s path, the answer and Retry-After; too long, too slow and unreachable fail', async (t) => {
  const seen: Array<{ url: string; chunked: string | undefined; body: string }> = [];
  const base = await scriptedServer(t, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', chunked: req.headers['transfer-encoding'], body });
      if (body === 'big') res.end('x'.repeat(5000));
      else if (body === 'plain') res.end();
      else if (body === 'slow') setTimeout(() => res.end(), 2000); // longer than the poster's timeout below
      else res.writeHead(503, { 'Retry-After': '7', 'Content-Type': 'text/plain' }).end('busy');
    });
  });
  const poster = new Poster({ url: base, maxSockets: 2, timeoutMs: 300, maxAnswerBytes: 1000 });
  t.teardown(() => poster.close());
  const busy = await poster.post({ serial: '42', headers: {}, chunks: [Buffer.from('a'), Buffer.from('b')] });
  t.like(busy, { status: 503, retryAfterS: 7, contentType: 'text/plain' });
  t.is(busy.body.toString(), 'busy');
  t.deepEqual(seen[0], { url: '/prefix/api/spots/42/events/', chunked: 'chunked', body: 'ab' });
  t.like(await poster.post({ serial: '42', headers: {}, chunks: [Buffer.from('plain')] }), { status: 200, contentType: '', retryAfterS: null });
  await t.throwsAsync(poster.post({ serial: '42', headers: {}, chunks: [Buffer.from('big')] }), { message: /answer over 1000 bytes/ });
  await t.throwsAsync(poster.post({ serial: '42', headers: {}, chunks: [Buffer.from('slow')] }), { message: /no answer within 300 ms/ });
  const gone = new Poster({ url: 'http://127.0.0.1:1', maxSockets: 1, timeoutMs: 1000, maxAnswerBytes: 10 });
  await t.throwsAsync(gone.post({ serial: '1', headers: {}, chunks: [] }), { message: /ECONNREFUSED/ });
  gone.close();
  t.throws(() => new Poster({ url: 'ftp://x', maxSockets: 1, timeoutMs: 1, maxAnswerBytes: 1 }), { message: /not an http:\/\/ or https:\/\/ URL/ });
});

test('the poster over https checks the server against the CA file', async (t) => {
  const certs = makeCerts(t);
  const server = https.createServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) }, (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': JSON_CONTENT_TYPE }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const trusted = new Poster({ url, caFile: certs.caCert, maxSockets: 1, timeoutMs: 5000, maxAnswerBytes: 100 });
  t.like(await trusted.post({ serial: '5', headers: {}, chunks: [Buffer.from('x')] }), { status: 200, contentType: JSON_CONTENT_TYPE });
  trusted.close();
  const other = new Poster({ url, caFile: certs.otherCaCert, maxSockets: 1, timeoutMs: 5000, maxAnswerBytes: 100 });
  await t.throwsAsync(other.post({ serial: '5', headers: {}, chunks: [] }), { message: /self-signed|unable to verify|certificate/i });
  other.close();
  const system = new Poster({ url, maxSockets: 1, timeoutMs: 5000, maxAnswerBytes: 100 });
  await t.throwsAsync(system.post({ serial: '5', headers: {}, chunks: [] }), { message: /self-signed|unable to verify|certificate/i }, "the test CA is none of Node's");
  system.close();
});
