// Bad input never hurts: wrong paths, bad serials, garbage bodies, bodies that never end, a full buffer.
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { api, JSON_EVENTS, postChunks, SpotConnection, startTestGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { jsonText, presence } from './events.js';

test('a wrong path answers 404 JSON naming the path', async (t) => {
  const gw = await startTestGateway(t);
  const res = await api<{ error: string; reason: string }>(gw.url, '/api/nope?x=1');
  t.is(res.status, 404);
  t.is(res.body.error, 'not found');
  t.regex(res.body.reason, /\/api\/nope/);
  const post = await postChunks(gw.port, 1, [jsonText([presence(1)])], { headers: JSON_EVENTS, path: '/api/spot/1/events/' });
  t.is(post.status, 404);
  const unknownSpot = await api<{ reason: string }>(gw.url, '/api/spots/999');
  t.is(unknownSpot.status, 404);
  t.regex(unknownSpot.body.reason, /999/);
});

test('a bad serial answers 400 and nothing is stored', async (t) => {
  const gw = await startTestGateway(t);
  for (const serial of ['abc', '0', '-5', '12x', '99999999999999999999']) {
    const res = await postChunks(gw.port, serial, [jsonText([presence(1)])], { headers: JSON_EVENTS });
    t.is(res.status, 400, serial);
    t.regex(JSON.parse(res.body.toString()).reason, /serial .* is not a positive integer/, serial);
  }
  const { body } = await api<unknown[]>(gw.url, '/api/events');
  t.deepEqual(body, []);
  const ok = await postChunks(gw.port, 1, [jsonText([presence(1)])], { headers: JSON_EVENTS });
  t.is(ok.status, 200);
});

test('a 10 MB garbage body is answered, bounded in what it leaves, and the gateway keeps serving', async (t) => {
  const gw = await startTestGateway(t);
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  await conn.startPost(666, { headers: JSON_EVENTS });
  await conn.chunk(jsonText([presence(1)]));
  for (let i = 0; i < 160; i++) await conn.chunk(randomBytes(64 * 1024));
  // A real event after the garbage, preceded by a blank line: the decoder resynchronises.
  await conn.chunk(`\n\n${jsonText([presence(2)])}`);
  await conn.endPost();
  const res = await conn.response(60000);
  t.is(res.status, 200);
  const { body: spot } = await api<{ rejected: number; events: number }>(gw.url, '/api/spots/666');
  t.true(spot.rejected >= 1);
  const { body: stored } = await api<Array<{ resource: string; action: string; data: Record<string, unknown> }>>(gw.url, '/api/events?spot=666');
  t.deepEqual(
    stored.map((e) => [e.resource, e.action, e.data]),
    [presence(1), presence(2)].map((e) => [e.resource, e.action, e.data]),
    'the valid event before the garbage and the one after it are both stored, as sent',
  );
  t.is(spot.events, 2);
  const { body: rejected } = await api<Array<{ rawBase64: string }>>(gw.url, '/api/rejected?spot=666&limit=10000');
  t.true(rejected.length <= 100, `at most max_rejected_per_post kept, got ${rejected.length}`);
  t.true(rejected.every((r) => Buffer.from(r.rawBase64, 'base64').length <= 1024));
  const { body: status } = await api<{ ingest: { bytes: number } }>(gw.url, '/api/status');
  t.true(status.ingest.bytes >= 10 * 1024 * 1024);
  const after = await postChunks(gw.port, 667, [jsonText([presence(3)])], { headers: JSON_EVENTS });
  t.is(after.status, 200);
  t.is((await api(gw.url, '/healthz')).status, 200);
});

test('a body that never ends is cut off after the idle timeout; events before it are kept', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { idle_timeout_ms: 300 } } });
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  await conn.startPost(42, { headers: JSON_EVENTS });
  await conn.chunk(jsonText([presence(1), presence(2)]));
  const res = await conn.response(5000);
  t.is(res.status, 408);
  t.regex(JSON.parse(res.body.toString()).reason, /silent for 300 ms/);
  await conn.closedByServer(5000);
  const events = await waitFor(async () => {
    const { body } = await api<unknown[]>(gw.url, '/api/events?spot=42');
    return body.length === 2 ? body : undefined;
  }, 5000, 'the two events sent before the stall');
  t.is(events.length, 2);
  const { body: status } = await api<{ ingest: { postsCut: number } }>(gw.url, '/api/status');
  t.is(status.ingest.postsCut, 1);
  t.is((await postChunks(gw.port, 42, [jsonText([presence(3)])], { headers: JSON_EVENTS })).status, 200);
});

test('a slow post that keeps sending within the idle timeout is not cut off, however long it lasts', async (t) => {
  // The gaps stay far below the timeout (200 ms against 1200 ms), so a busy machine
  // that delays one timer by a few hundred ms cannot make the gateway cut the post.
  const gw = await startTestGateway(t, { config: { http: { idle_timeout_ms: 1200 } } });
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  await conn.startPost(43, { headers: JSON_EVENTS });
  // 15 chunks 200 ms apart: 3 s in all, two and a half times the idle timeout.
  for (let i = 0; i < 15; i++) {
    await conn.chunk(jsonText([presence(i)]));
    // The pace of the slow spot the test is about: a gap between chunks, not a wait for a condition.
    await new Promise((r) => setTimeout(r, 200));
  }
  await conn.endPost();
  const res = await conn.response(5000);
  t.is(res.status, 200);
  const { body: events } = await api<unknown[]>(gw.url, '/api/events?spot=43');
  t.is(events.length, 15);
  const { body: status } = await api<{ ingest: { postsCut: number } }>(gw.url, '/api/status');
  t.is(status.ingest.postsCut, 0);
});

test('a full buffer under policy reject answers 503 with Retry-After and delivers no command', async (t) => {
  const gw = await startTestGateway(t, { config: { buffer: { max_mb: 0.3, policy: 'reject' } } });
  t.is((await api(gw.url, '/api/spots/7/commands', { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 3 } } })).status, 202);
  const big = Array.from({ length: 200 }, (_, i) => presence(i));
  let refused: Awaited<ReturnType<typeof postChunks>> | undefined;
  for (let i = 0; i < 40 && !refused; i++) {
    const res = await postChunks(gw.port, 8, [jsonText(big)], { headers: JSON_EVENTS });
    if (res.status === 503) refused = res;
    else t.is(res.status, 200);
  }
  if (!refused) return t.fail('the buffer never filled up');
  t.regex(refused.headers['retry-after'] ?? '', /^\d+$/);
  t.regex(JSON.parse(refused.body.toString()).reason, /full/);
  const spot7 = await postChunks(gw.port, 7, [jsonText(big)], { headers: JSON_EVENTS });
  t.is(spot7.status, 503);
  const { body: commands } = await api<Array<{ state: string }>>(gw.url, '/api/spots/7/commands');
  t.is(commands[0]!.state, 'queued', 'a command is not delivered in a 503');
  const health = await api<{ status: string; reason: string }>(gw.url, '/healthz');
  t.is(health.status, 200, 'alive');
  t.like(health.body, {
    status: 'degraded',
    reason: "buffer full (cap 0.3 MiB, policy reject): spots' posts are answered 503 until forwarded events make room",
  });
});

test('API query parameters are checked', async (t) => {
  const gw = await startTestGateway(t);
  for (const q of ['/api/events?limit=0', '/api/events?after=x', '/api/events?spot=abc', '/api/rejected?limit=-1']) {
    const res = await api<{ error: string; reason: string }>(gw.url, q);
    t.is(res.status, 400, q);
    t.is(res.body.error, 'bad request', q);
  }
});

test('a database file replaced by garbage is moved aside and the gateway starts fresh', async (t) => {
  const dataDir = tempDir(t);
  writeFileSync(path.join(dataDir, 'spot-gateway.db'), randomBytes(64 * 1024));
  const gw = await startTestGateway(t, { dataDir });
  t.is((await postChunks(gw.port, 3, [jsonText([presence(1)])], { headers: JSON_EVENTS })).status, 200);
  t.is((await api<unknown[]>(gw.url, '/api/events')).body.length, 1);
  t.true(readdirSync(dataDir).some((name) => name.startsWith('spot-gateway.db.corrupt-')), readdirSync(dataDir).join(', '));
});
