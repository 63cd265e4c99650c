// Every error answer is {error, reason} JSON, including node's and fastify's own, and never echoes a long URL back.
import test, { type ExecutionContext } from 'ava';
import { SpotConnection, startTestGateway, type RawResponse } from '../helpers/gateway.js';

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
