// The spot-server forwarder against an in-memory store and a scripted server: refusals per spot, the
// server-wide backoff and its probe, store failures, stop, polls; and its post bodies.
import test from 'ava';
import { JSON_CONTENT_TYPE, PB_CONTENT_TYPE, createPbEncoder, encodeJsonEvent } from '../../gateway/src/protocol/index.js';
import {
  BOOT_ID_SPAN,
  INSTANCE_TAGS,
  bootOf,
  instanceTag,
  postBody,
  relayCommands,
  sameEncodingPrefix,
  type ChainEvent,
  type PostAnswer,
} from '../../gateway/src/upstream/spot-server/index.js';
import { waitFor } from '../helpers/wait.js';
import { HandTimers, Server, Source, UP, answer, forwarder, ok } from './spot-server-fakes.js';

test('a spot the server refuses for good waits on its own backoff; the other spots go on', async (t) => {
  const source = new Source();
  const server = new Server();
  const timers = new HandTimers();
  server.answer = async (r) => (r.serial === '2' && server.requests.filter((x) => x.serial === '2').length === 1 ? answer(409) : ok());
  const f = forwarder(source, server, timers);
  f.start();
  source.add('2', 2);
  source.add('1', 4);
  await waitFor(() => (source.durable.get('1') === 6 ? true : undefined), 5000, 'spot 1 forwarded');
  t.is(source.cursor(UP, '2'), 0);
  const held = f.status();
  t.is(held.spotsHeld, 1);
  t.is(held.refused, 1);
  t.regex(held.lastError ?? '', /answered 409 to a post of spot 2/);
  t.is(held.state, 'connected');
  t.is(held.noAckSinceMs, null, 'acked after the refusal: not stalled');
  // Spot 1's posts: 3 then 1 events, its User-Agent and the site's numbering (a boot per post, seq from 1).
  const posts1 = server.requests.filter((r) => r.serial === '1');
  t.deepEqual(posts1.map((r) => r.chunks.length), [3, 1]);
  t.is(posts1[0]!.headers['User-Agent'], 'spot/1.0');
  t.is(posts1[0]!.headers.Authorization, 'Bearer tok');
  t.is(posts1[0]!.headers['X-Spot-Seq'], '1');
  t.not(posts1[0]!.headers['X-Spot-Boot'], posts1[1]!.headers['X-Spot-Boot']);
  t.is(server.requests.find((r) => r.serial === '2')!.headers['User-Agent'], undefined);

  const delays = timers.fire();
  t.true(delays[0]! >= 250 && delays[0]! <= 500, `the spot's first backoff ${delays[0]}`);
  await waitFor(() => (source.durable.get('2') === 2 ? true : undefined), 5000, 'spot 2 forwarded after its backoff');
  t.is(f.status().spotsHeld, 0);
  await f.stop();
});

test('a refusal with nothing taken since shows as a stall', async (t) => {
  const source = new Source();
  const server = new Server();
  server.answer = async () => answer(413);
  const timers = new HandTimers();
  const f = forwarder(source, server, timers);
  f.start();
  f.start();
  source.add('3', 1);
  await waitFor(() => (f.status().refused === 1 ? true : undefined), 5000, 'the refusal');
  const s = f.status();
  t.not(s.noAckSinceMs, null);
  t.is(s.reconnectsSinceAck, 1);
  await f.stop();
  // The spot's backoff running out after the stop starts nothing.
  timers.fire();
  await new Promise((resolve) => setImmediate(resolve));
  t.is(server.requests.length, 1);
});

test('the server busy or unreachable: every spot waits for the backoff (Retry-After at least), then one post probes', async (t) => {
  const source = new Source();
  const server = new Server();
  const timers = new HandTimers();
  let calls = 0;
  let release: ((a: PostAnswer) => void) | null = null;
  server.answer = (r) => {
    calls++;
    if (calls === 1) return Promise.resolve(answer(503, 3));
    if (calls === 2) return Promise.reject(new Error('connect ECONNREFUSED'));
    if (calls === 3) return new Promise<PostAnswer>((resolve) => (release = resolve));
    return Promise.resolve(ok(r.chunks.length > 0 ? new Uint8Array(0) : new Uint8Array(0)));
  };
  const f = forwarder(source, server, timers, [], { maxPostsInFlight: 1 });
  f.start();
  source.add('1', 1);
  source.add('2', 1);
  await waitFor(() => (f.status().state === 'down' ? true : undefined), 5000, 'down');
  t.regex(f.status().lastError ?? '', /answered 503/);
  t.not(f.status().downSinceMs, null);
  const first = timers.fire();
  t.true(first[0]! >= 3000, `Retry-After respected: ${first[0]}`);
  await waitFor(() => (calls === 2 && f.status().reconnects === 2 ? true : undefined), 5000, 'the probe to fail');
  t.regex(f.status().lastError ?? '', /ECONNREFUSED/);
  timers.fire();
  await waitFor(() => (calls === 3 ? true : undefined), 5000, 'the next probe');
  // The probe is alone in flight.
  await new Promise((resolve) => setImmediate(resolve));
  t.is(f.status().inFlight, 1);
  release!(ok());
  await waitFor(() => (source.durable.get('1') === 1 && source.durable.get('2') === 2 ? true : undefined), 5000, 'both spots after the probe');
  t.is(f.status().state, 'connected');
  t.is(f.status().downSinceMs, null);
  await f.stop();
});

test('a store that cannot be read or committed: the spot waits and tries again', async (t) => {
  const source = new Source();
  const server = new Server();
  const timers = new HandTimers();
  const f = forwarder(source, server, timers);
  f.start();
  source.failReads = true;
  source.add('1', 2);
  await waitFor(() => (f.status().lastError?.includes('reading the store failed') ? true : undefined), 5000, 'the read failure');
  source.failReads = false;
  source.failFlush = true;
  t.deepEqual(timers.fire(), [1000]);
  await waitFor(() => (f.status().lastError?.includes('committing cursors failed') ? true : undefined), 5000, 'the commit failure');
  t.is(source.durable.get('1'), undefined);
  source.add('1', 1);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(server.requests.length, 1, 'no next post before the cursor is durable');
  source.failFlush = false;
  timers.fire();
  await waitFor(() => (source.durable.get('1') === 3 ? true : undefined), 5000, 'the rest after the commit');
  await f.stop();
});

test('commands in an answer are queued for the spot; undecodable or refused ones are counted', async (t) => {
  const source = new Source();
  const server = new Server();
  const queued: Array<[string, unknown]> = [];
  const pb = createPbEncoder();
  const body = Buffer.concat([
    pb.encode({ resource: 'config', action: 'update', data: { hostname: 'a' } }),
    pb.encode({ resource: 'config', action: 'refuse', data: {} }),
  ]);
  server.answer = async (r) => (r.serial === '1' ? ok(body, PB_CONTENT_TYPE) : ok(Buffer.from('garbage\n\n'), JSON_CONTENT_TYPE));
  const f = forwarder(source, server, new HandTimers(), queued);
  f.start();
  source.add('1', 1, 'pb');
  source.add('2', 1);
  await waitFor(() => (f.status().commandsRejected === 2 ? true : undefined), 5000, 'the answers read');
  t.deepEqual(queued, [['1', { resource: 'config', action: 'update', data: { hostname: 'a' } }]]);
  t.is(f.status().commandsRelayed, 1);
  t.is(server.requests[0]!.headers['Content-Type'], PB_CONTENT_TYPE);
  await f.stop();
});

test('a spot heard with nothing to send gets a post without events once its last one is old enough', async (t) => {
  const source = new Source();
  const server = new Server();
  let now = 10_000;
  const f = forwarder(source, server, new HandTimers(), [], { now: () => now });
  f.heard('9');
  t.is(server.requests.length, 0, 'not before start');
  f.start();
  f.heard('9');
  await waitFor(() => (server.requests.length === 1 ? true : undefined), 5000, 'the poll');
  t.deepEqual(server.requests[0]!.chunks, []);
  t.is(server.requests[0]!.headers['X-Spot-Boot'], undefined);
  await new Promise((resolve) => setImmediate(resolve));
  now += 500;
  f.heard('9');
  await new Promise((resolve) => setImmediate(resolve));
  t.is(server.requests.length, 1, 'too soon for another');
  now += 600;
  f.heard('9');
  await waitFor(() => (server.requests.length === 2 ? true : undefined), 5000, 'the second poll');
  await f.stop();
  await f.stop();
});

test('stop waits (bounded) for the posts in flight and commits their cursors', async (t) => {
  const source = new Source();
  const server = new Server();
  let release: ((a: PostAnswer) => void) | null = null;
  server.answer = () => new Promise<PostAnswer>((resolve) => (release = resolve));
  let closed = 0;
  const f = forwarder(source, server, new HandTimers(), [], { close: () => closed++, stopTimeoutMs: 5000 });
  f.start();
  source.add('1', 2);
  await waitFor(() => (server.requests.length === 1 ? true : undefined), 5000, 'the post');
  const stopped = f.stop();
  release!(ok());
  await stopped;
  t.is(source.durable.get('1'), 2);
  t.is(closed, 1);

  // A post never answered: the stop gives up after its bound.
  const g = forwarder(source, server, new HandTimers(), [], { stopTimeoutMs: 50 });
  g.start();
  source.add('1', 1);
  await waitFor(() => (server.requests.length === 2 ? true : undefined), 5000, 'the second post');
  await g.stop();
  t.is(source.durable.get('1'), 2);
  t.is(g.status().inFlight, 1);

  // Answered after the stop, with a cursor that cannot be saved: said, and no retry timer is left.
  const timers = new HandTimers();
  const h = forwarder(source, server, timers, [], { stopTimeoutMs: 5000 });
  h.start();
  source.add('1', 1);
  await waitFor(() => (server.requests.length === 3 ? true : undefined), 5000, 'the third post');
  const stopping = h.stop();
  source.failAdvance = true;
  release!(ok());
  await stopping;
  t.regex(h.status().lastError ?? '', /saving the cursor/);
  t.is(timers.pending.size, 0);
});

test('post bodies: one encoding per post, JSON as stored, boots from the instance and the first id', async (t) => {
  t.deepEqual(sameEncodingPrefix([]), []);
  const events: ChainEvent[] = [
    { id: 5, spot: '1', resource: 'hit', action: 'create', data: '{"a":1}', encoding: 'json', timeReceived: 0 },
    { id: 6, spot: '1', resource: 'hit', action: 'create', data: '{"a":2}', encoding: 'pb', timeReceived: 0 },
  ];
  t.is(sameEncodingPrefix(events).length, 1);
  const body = postBody(events.slice(0, 1), 'json', 7, null, '');
  t.deepEqual(Buffer.from(body.chunks[0]!).toString(), Buffer.from(encodeJsonEvent({ resource: 'hit', action: 'create', data: { a: 1 } })).toString());
  t.is(body.headers.Authorization, undefined);
  t.is(body.headers['X-Spot-Boot'], String(7 * BOOT_ID_SPAN + 5));
  t.is(bootOf(1, BOOT_ID_SPAN + 3), BOOT_ID_SPAN + 3);
  t.true(String(bootOf(INSTANCE_TAGS - 1, BOOT_ID_SPAN - 1)).length <= 15, 'X-Spot-Boot takes 15 digits');
  const tag = instanceTag('0f1e2d3c-aaaa-bbbb-cccc-000000000000');
  t.true(tag >= 0 && tag < INSTANCE_TAGS);
  t.not(instanceTag('a'), instanceTag('b'));
  t.deepEqual(await relayCommands('1', new Uint8Array(0), 'json', () => t.fail()), { queued: 0, refused: [] });
});

test('relayed commands are all handed over in the same turn, in order, and counted as their queueing settles', async (t) => {
  const body = Buffer.from('["config","update",{"n":1}]\n\n["config","update",{"n":2}]\n\n["config","update",{"n":3}]\n\n');
  const handed: number[] = [];
  const settle: Array<() => void> = [];
  const relayed = relayCommands('7', body, 'json', (_spot, command) => {
    const n = command.data.n as number;
    handed.push(n);
    // The second one is refused once it would have been durable (a failed fsync: the store's error).
    return new Promise<void>((resolve, reject) => settle.push(n === 2 ? () => reject(new Error('store: WAL fsync failed: EIO')) : resolve));
  });
  t.deepEqual(handed, [1, 2, 3], 'each queued without waiting for the one before');
  for (const s of settle) s();
  t.deepEqual(await relayed, { queued: 2, refused: ['config update: store: WAL fsync failed: EIO'] });
});

test('an append notice for events already forwarded starts no post; a cursor that cannot be saved is said and sent again', async (t) => {
  const source = new Source();
  const server = new Server();
  const timers = new HandTimers();
  const f = forwarder(source, server, timers);
  f.start();
  source.add('1', 1);
  await waitFor(() => (source.durable.get('1') === 1 ? true : undefined), 5000, 'the first post');
  source.notify('1', 1);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.is(server.requests.length, 1);
  t.like(f.status(), { spotsWaiting: 0, spotsTracked: 1 });
  source.failAdvance = true;
  source.add('1', 1);
  await waitFor(() => (f.status().lastError?.includes('saving the cursor of spot 1 at 2 failed') ? true : undefined), 5000, 'the cursor failure');
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.is(server.requests.length, 2, 'no post again before the second is up');
  source.failAdvance = false;
  t.deepEqual(timers.fire(), [1000]);
  await waitFor(() => (source.durable.get('1') === 2 ? true : undefined), 5000, 'sent again, cursor saved');
  t.is(server.requests.length, 3);
  await f.stop();
});
