// Every error answer is {error, reason} JSON, including node's and fastify's own, and never echoes a long URL back.
import { gzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { createLogger } from '../../gateway/src/log.js';
import { SpotConnection, startTestGateway, type RawResponse } from '../helpers/gateway.js';
import { metric, rawGet } from '../helpers/raw-client.js';

/** Writes the raw request bytes on a fresh connection and reads the one answer (write errors after it are fine). */
async function rawRequest(t: ExecutionContext, port: number, request: string | Buffer): Promise<RawResponse> {
  const conn = new SpotConnection(port);
  t.teardown(() => conn.close());
  // A gateway that answers before reading everything may close while this write is still going.
  conn.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request).catch(() => undefined);
  return conn.response(10000);
}

/** The answer is `status` with a JSON body of exactly {error, reason}, and the reason is short. */
function isErrorBody(t: ExecutionContext, res: RawResponse, status: number, error: string): string {
  t.is(res.status, status);
  t.regex(res.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(res.body.toString()) as Record<string, unknown>;
  t.deepEqual(Object.keys(body).sort(), ['error', 'reason']);
  t.is(body['error'], error);
  const reason = body['reason'] as string;
  t.is(typeof reason, 'string');
  t.true(reason.length <= 250, `reason of ${reason.length} characters: ${reason.slice(0, 300)}`);
  t.false(res.body.toString().includes('x'.repeat(101)), 'no long run of the URL or header echoed back');
  return reason;
}

test('a 10 kB URL is answered 414 without echoing it', async (t) => {
  const gw = await startTestGateway(t);
  const res = await rawRequest(t, gw.port, `GET /api/events?spot=${'x'.repeat(10_000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
  const reason = isErrorBody(t, res, 414, 'uri too long');
  t.regex(reason, /^request target of 10017 bytes is over the 2048 served here: \/api\/events\?spot=x+…$/);
});

test('a URL over node\'s 16 kB head limit is answered 414 JSON too', async (t) => {
  const gw = await startTestGateway(t);
  const res = await rawRequest(t, gw.port, `GET /api/events?spot=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
  t.regex(isErrorBody(t, res, 414, 'uri too long'), /request target over the 2048 bytes served here/);
});

test('headers over node\'s limit are answered 431 JSON', async (t) => {
  const gw = await startTestGateway(t);
  const res = await rawRequest(t, gw.port, `GET /api/status HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
  t.regex(isErrorBody(t, res, 431, 'request header fields too large'), /request line and headers over \d+ bytes/);
});

test('a malformed request line is answered 400 JSON naming the parser\'s reason', async (t) => {
  const gw = await startTestGateway(t);
  const res = await rawRequest(t, gw.port, 'this is not http\r\n\r\n');
  t.regex(isErrorBody(t, res, 400, 'bad request'), /^malformed HTTP request \(HPE_[A-Z_]+\): /);
});

test('an API body over the limit is answered 413 "payload too large"', async (t) => {
  const gw = await startTestGateway(t);
  const body = JSON.stringify({ resource: 'config', action: 'update', data: { hostname: 'x'.repeat(2 * 1024 * 1024) } });
  const head = `POST /api/spots/1/commands HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const res = await rawRequest(t, gw.port, Buffer.from(head + body));
  t.is(isErrorBody(t, res, 413, 'payload too large'), "request body over the 1048576 bytes this route takes");
});

test('an unknown route is answered 404 with the path cut short', async (t) => {
  const gw = await startTestGateway(t);
  const res = await rawRequest(t, gw.port, `GET /api/nope/${'x'.repeat(1500)} HTTP/1.1\r\nHost: a\r\n\r\n`);
  t.regex(isErrorBody(t, res, 404, 'not found'), /^no route GET \/api\/nope\/x+…$/);
});

test('a GET on the ingest path with a long query is answered 405 with the URL cut short', async (t) => {
  const gw = await startTestGateway(t);
  const res = await rawRequest(t, gw.port, `GET /api/spots/1/events/?q=${'x'.repeat(1500)} HTTP/1.1\r\nHost: a\r\n\r\n`);
  t.regex(isErrorBody(t, res, 405, 'method not allowed'), /^GET \/api\/spots\/1\/events\/\?q=x+…: spots POST their events here$/);
});

test('a bad JSON body on the API is answered 400 JSON', async (t) => {
  const gw = await startTestGateway(t);
  const body = '{"resource": "config", ';
  const res = await rawRequest(t, gw.port, `POST /api/spots/1/commands HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  isErrorBody(t, res, 400, 'bad request');
});

test('an API body of a type no route reads is answered 415 with the type cut short', async (t) => {
  const gw = await startTestGateway(t);
  const type = `application/x${'x'.repeat(1000)}`;
  const res = await rawRequest(t, gw.port, `POST /api/spots/1/commands HTTP/1.1\r\nHost: a\r\nContent-Type: ${type}\r\nContent-Length: 2\r\n\r\n<a`);
  t.regex(isErrorBody(t, res, 415, 'unsupported media type'), /^body of type "application\/x+…" is not read on this route$/);
});

test('refusals before any route are counted by status and reason in /metrics and logged, a repeat of a kind within the minute only counted', async (t) => {
  const lines: Array<{ level: number; msg: string; status?: number; reason?: string; address?: string }> = [];
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) } });
  const gw = await startTestGateway(t, { logger });
  const refused = async (request: string | Buffer, status: number): Promise<void> => {
    t.is((await rawRequest(t, gw.port, request)).status, status);
  };
  await refused('this is not http\r\n\r\n', 400);
  await refused('GET / HTTP/1.1\r\nHost a\r\n\r\n', 400);
  await refused(`GET /api/events?spot=${'x'.repeat(10_000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414);
  await refused(`GET /api/events?spot=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414);
  await refused(`GET /api/status HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`, 431);
  const body = gzipSync('["tag","arrive",{}]\n');
  const head = `POST /api/spots/4711/events/ HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`;
  await refused(Buffer.concat([Buffer.from(head), body]), 415);

  const text = (await rawGet(gw.port, '/metrics')).body;
  const series = (status: number, reason: string): number | undefined => metric(text, `spot_gateway_requests_refused_total{status="${status}",reason="${reason}"}`);
  t.is(series(400, 'malformed'), 2);
  t.is(series(414, 'target_too_long'), 2);
  t.is(series(431, 'head_too_large'), 1);
  t.is(series(415, 'content_encoding'), 1);

  const refusals = lines.filter((l) => l.msg.startsWith('http: '));
  t.deepEqual(
    refusals.map((l) => [l.status, l.reason, l.address]),
    [
      [400, 'malformed', '127.0.0.1'],
      [414, 'target_too_long', '127.0.0.1'],
      [431, 'head_too_large', '127.0.0.1'],
      [415, 'content_encoding', '127.0.0.1'],
    ],
    'one line per kind: the second 400 and the second 414 within the minute are only counted',
  );
  t.true(refusals.every((l) => l.level === 40), 'at warn');
  t.regex(refusals[3]!.msg, /^http: 415 to 127\.0\.0\.1: spot 4711: Content-Encoding "gzip" is not decoded here/);
});
