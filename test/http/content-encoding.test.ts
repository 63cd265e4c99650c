// A body coded with a Content-Encoding the gateway does not decode is refused whole (415), never rejected event by event.
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { api, JSON_EVENTS, postChunks, SpotConnection, startTestGateway } from '../helpers/gateway.js';
import { jsonText, presence } from './events.js';

test('a gzip-coded post is answered 415 naming the encoding; nothing of it is read or stored, and the connection closes', async (t) => {
  const gw = await startTestGateway(t);
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  const body = gzipSync(jsonText([presence(1), presence(2)]));
  // One write: the gateway answers after the headers, and a later write could meet the closed socket.
  const head = ['POST /api/spots/4711/events/ HTTP/1.1', 'Host: 127.0.0.1', 'Transfer-Encoding: chunked', 'Content-Type: text/x-intellifi-events', 'Content-Encoding: gzip'];
  await conn.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]));
  const res = await conn.response();
  t.is(res.status, 415);
  t.is(res.headers['accept-encoding'], 'identity');
  t.regex(res.headers['content-type'] ?? '', /^application\/json/);
  t.deepEqual(JSON.parse(res.body.toString()), {
    error: 'unsupported media type',
    reason: 'spot 4711: Content-Encoding "gzip" is not decoded here, only identity: send the events uncompressed; nothing of this post was read or stored',
  });
  await conn.closedByServer(5000);
  t.deepEqual((await api<unknown[]>(gw.url, '/api/events')).body, [], 'no event stored');
  t.deepEqual((await api<unknown[]>(gw.url, '/api/rejected')).body, [], 'nothing in the rejected table');
  const { body: status } = await api<{ ingest: { posts: number; rejected: number } }>(gw.url, '/api/status');
  t.like(status.ingest, { posts: 0, rejected: 0 }, 'the post was never opened');
});

test('every coding other than identity is refused, in any case and in a list', async (t) => {
  const gw = await startTestGateway(t);
  for (const coding of ['GZIP', 'deflate', 'br', 'x-gzip', 'identity, gzip', 'compress']) {
    const res = await postChunks(gw.port, 7, [jsonText([presence(1)])], { headers: { ...JSON_EVENTS, 'Content-Encoding': coding } });
    t.is(res.status, 415, coding);
    t.is(JSON.parse(res.body.toString()).error, 'unsupported media type', coding);
  }
  t.deepEqual((await api<unknown[]>(gw.url, '/api/events')).body, []);
});

test('identity, in any case, is read like no Content-Encoding at all', async (t) => {
  const gw = await startTestGateway(t);
  for (const [i, coding] of ['identity', 'Identity', ' IDENTITY '].entries()) {
    const res = await postChunks(gw.port, 8, [jsonText([presence(i)])], { headers: { ...JSON_EVENTS, 'Content-Encoding': coding } });
    t.is(res.status, 200, coding);
  }
  t.is((await api<unknown[]>(gw.url, '/api/events?spot=8')).body.length, 3);
});
