// SpotPost alone with a fake store: ack only after commit, numbering, rejects bounded, registry writes.
import test from 'ava';
import { IngestCounters, OnlineTracker, SpotPost, type IngestDeps, type PostInfo } from '../../gateway/src/ingest/index.js';
import { DECODE_SLICE_BYTES, DECODE_TURN_MS } from '../../gateway/src/ingest/post.js';
import { createPbEncoder } from '../../gateway/src/protocol/index.js';
import { StoreUnavailableError, type AppendOutcome, type Command, type NewEvent } from '../../gateway/src/store/types.js';
import { jsonText, presence } from './events.js';

interface PendingAppend {
  events: NewEvent[];
  resolve(outcomes: AppendOutcome[]): void;
  reject(err: Error): void;
}

function fakeStore(commands: Command[] = []) {
  const appends: PendingAppend[] = [];
  const calls: string[] = [];
  const rejected: Array<{ reason: string; raw: Uint8Array }> = [];
  const delivered: number[] = [];
  const store = {
    appendWith: (events: NewEvent[], done: (err: Error | null, outcomes: AppendOutcome[]) => void) =>
      appends.push({ events, resolve: (outcomes) => done(null, outcomes), reject: (err) => done(err, []) }),
    commands: {
      pendingFor: () => commands,
      markDelivered: (ids: number[]) => (delivered.push(...ids), ids.length),
    },
    spots: {
      touch: () => calls.push('touch'),
      recordPost: (_s: string, p: { events: number; rejected: number; duplicates: number }) => calls.push(`post ${p.events}/${p.rejected}/${p.duplicates}`),
      recordSpotCreate: () => calls.push('spotCreate'),
      recordConfigCreate: () => calls.push('configCreate'),
      mergeConfig: (_s: string, partial: object) => calls.push(`mergeConfig ${JSON.stringify(partial)}`),
    },
    rejected: { add: (r: { reason: string; raw: Uint8Array }) => rejected.push(r) },
  };
  return { store: store as unknown as IngestDeps['store'], appends, calls, rejected, delivered };
}

const silent = { info() {}, warn() {}, debug() {} };

function newPost(store: IngestDeps['store'], info: Partial<PostInfo> = {}, deps: Partial<IngestDeps> = {}): SpotPost {
  return new SpotPost(
    { store, now: () => 1000, logger: silent, counters: new IngestCounters(), maxEventBytes: 65536, maxRejectedPerPost: 3, heard: () => {}, ...deps },
    { serial: '7', contentType: 'text/x-intellifi-events', firmwareVersion: '1.0', numbering: null, ...info },
  );
}

const ok = (events: NewEvent[]): AppendOutcome[] => events.map((_, i) => ({ id: i + 1 }));
const tick = () => new Promise((r) => setImmediate(r));

test('the post is answered only after every append of it committed', async (t) => {
  const fake = fakeStore();
  const post = newPost(fake.store);
  post.push(Buffer.from(jsonText([presence(1)])));
  post.push(Buffer.from(jsonText([presence(2), presence(3)])));
  t.is(fake.appends.length, 2, 'one append per chunk, before the end of the body');
  let answered = false;
  const outcome = post.finish().then((o) => ((answered = true), o));
  await tick();
  fake.appends[1]!.resolve(ok(fake.appends[1]!.events));
  await tick();
  t.false(answered, 'not answered while the first append is uncommitted');
  fake.appends[0]!.resolve(ok(fake.appends[0]!.events));
  const result = await outcome;
  t.true(result.ok);
});

test('one failed append makes the post a 503 with the store reason and Retry-After', async (t) => {
  const fake = fakeStore([{ id: 5 } as Command]);
  const post = newPost(fake.store);
  post.push(Buffer.from(jsonText([presence(1)])));
  post.push(Buffer.from(jsonText([presence(2)])));
  fake.appends[0]!.resolve(ok(fake.appends[0]!.events));
  fake.appends[1]!.reject(new StoreUnavailableError('buffer full', 'full', 7));
  const result = await post.finish();
  t.deepEqual(result, { ok: false, reason: 'buffer full', retryAfterSeconds: 7 });
});

test('header numbering gives the n-th message seq + n, malformed ones included; PB frame numbers win', async (t) => {
  const fake = fakeStore();
  const post = newPost(fake.store, { numbering: { boot: 3, seq: 100 } });
  post.push(Buffer.from(jsonText([presence(1)]) + '[bad\n\n' + jsonText([presence(2)])));
  const done = post.finish();
  await tick();
  t.deepEqual(fake.appends.flatMap((a) => a.events.map((e) => [e.boot, e.seq])), [[3, 100], [3, 102]]);
  for (const a of fake.appends) a.resolve(ok(a.events));
  await done;

  const pb = fakeStore();
  const pbPost = newPost(pb.store, { contentType: 'application/x-intellifi-events-pb', numbering: { boot: 3, seq: 100 } });
  const encoder = createPbEncoder();
  pbPost.push(Buffer.concat([encoder.encode({ ...presence(1), boot: 9, seq: 40 }), encoder.encode(presence(2))]));
  const pbDone = pbPost.finish();
  await tick();
  t.deepEqual(pb.appends.flatMap((a) => a.events.map((e) => [e.boot, e.seq, e.encoding, e.pb instanceof Uint8Array])), [
    [9, 40, 'pb', true],
    [3, 101, 'pb', true],
  ]);
  for (const a of pb.appends) a.resolve(ok(a.events));
  await pbDone;

  const plain = fakeStore();
  const plainPost = newPost(plain.store);
  plainPost.push(Buffer.from(jsonText([presence(1)])));
  const plainDone = plainPost.finish();
  t.deepEqual(plain.appends[0]!.events.map((e) => [e.boot, e.seq]), [[null, null]], 'no numbering: no dedupe');
  plain.appends[0]!.resolve(ok(plain.appends[0]!.events));
  await plainDone;
});

test('duplicates are counted and the registry gets post counters, spot create and config', async (t) => {
  const fake = fakeStore();
  const counters = new IngestCounters();
  const post = newPost(fake.store, {}, { counters });
  post.push(
    Buffer.from(
      jsonText([
        { resource: 'spot', action: 'create', data: { spot_id: 7 } },
        { resource: 'config', action: 'create', data: { a: 1 } },
        { resource: 'config', action: 'update', data: { a: 2 } },
      ]),
    ),
  );
  const done = post.finish();
  await tick();
  fake.appends[0]!.resolve([{ id: 1 }, { duplicate: true }, { id: 2 }]);
  const result = await done;
  t.true(result.ok && result.duplicates === 1 && result.events === 3);
  t.deepEqual(fake.calls, ['touch', 'spotCreate', 'configCreate', 'mergeConfig {"a":2}', 'post 2/0/1']);
  t.is(counters.duplicates, 1);
  t.is(counters.eventsStored, 2);
});

test('malformed messages beyond max_rejected_per_post are counted, not kept', async (t) => {
  const fake = fakeStore();
  const counters = new IngestCounters();
  const post = newPost(fake.store, {}, { counters });
  // An event after each: malformed messages in a row would be one reject (a run).
  post.push(Buffer.from(['x1', 'x2', 'x3', 'x4', 'x5'].map((x, i) => `${x}\n\n${jsonText([presence(i)])}`).join('')));
  const done = post.finish();
  await tick();
  for (const a of fake.appends) a.resolve(ok(a.events));
  const result = await done;
  t.true(result.ok && result.rejected === 5);
  t.is(fake.rejected.length, 3);
  t.is(counters.rejectedNotKept, 2);
});

test('a run of malformed messages in a row is one record kept, counted as its messages', async (t) => {
  const fake = fakeStore();
  const counters = new IngestCounters();
  const post = newPost(fake.store, {}, { counters });
  post.push(Buffer.from('x1\n\nx2\n\nx3\n\nx4\n\nx5\n\n' + jsonText([presence(1)])));
  const done = post.finish();
  await tick();
  for (const a of fake.appends) a.resolve(ok(a.events));
  const result = await done;
  t.true(result.ok && result.rejected === 5 && result.events === 1);
  t.is(fake.rejected.length, 1);
  t.regex(fake.rejected[0]!.reason, /^stray bytes .* \(first of 5 malformed messages in a row\)$/);
  t.is(counters.rejected, 5);
  t.is(counters.rejectedNotKept, 0);
});

/** A clock on which every reading is one turn's decoding budget later: one slice per turn. */
function slowClock(): () => number {
  let now = 0;
  return () => (now += DECODE_TURN_MS);
}

test('a 4 MB piece is decoded in slices, yielding to the event loop once a turn has used its budget', async (t) => {
  const fake = fakeStore();
  const post = newPost(fake.store, { contentType: 'application/x-intellifi-events-pb' }, { clock: slowClock() });
  const encoder = createPbEncoder();
  const first = encoder.encode(presence(1));
  const zeros = new Uint8Array(4 * 1024 * 1024);
  const piece = Buffer.concat([first, zeros, encoder.encode(presence(2))]);
  post.push(piece);
  t.is(fake.appends.length, 1, 'the first slice, with the event before the garbage, is decoded at once');
  t.true(post.decoding, 'the rest waits for later turns');
  const slices = Math.ceil(piece.length / DECODE_SLICE_BYTES);
  let turns = 0;
  // Another callback of the loop runs between every two slices (bounded: one turn per slice).
  while (post.decoding && turns < slices) {
    await tick();
    turns++;
  }
  t.is(turns, slices - 1);
  t.is(fake.appends.length, 2, 'the event after the garbage, in the last slice');
  const done = post.finish();
  await tick();
  for (const a of fake.appends) a.resolve(ok(a.events));
  const result = await done;
  t.true(result.ok && result.events === 2 && result.rejected === zeros.length);
  t.is(fake.rejected.length, 1, 'the 4 MB of empty frames are one record');
});

test('a post whose end is waited for while it still decodes answers once all of it is decoded', async (t) => {
  const fake = fakeStore();
  const post = newPost(fake.store, { contentType: 'application/x-intellifi-events-pb' }, { clock: slowClock() });
  const encoder = createPbEncoder();
  post.push(Buffer.concat([new Uint8Array(3 * DECODE_SLICE_BYTES), encoder.encode(presence(2))]));
  const done = post.finish();
  for (let turn = 0; turn < 4 && fake.appends.length === 0; turn++) await tick();
  t.is(fake.appends.length, 1);
  fake.appends[0]!.resolve(ok(fake.appends[0]!.events));
  const result = await done;
  t.true(result.ok && result.events === 1 && result.rejected === 3 * DECODE_SLICE_BYTES);
});

test('the reply holds the queued commands in the spot encoding', async (t) => {
  const command = { id: 9, resource: 'config', action: 'update', data: '{"rfid_power_dbm":20}' } as Command;
  const fake = fakeStore([command]);
  const post = newPost(fake.store);
  const result = await post.finish();
  if (!result.ok) return t.fail(result.reason);
  t.is(Buffer.from(result.body).toString(), '["config","update",{"rfid_power_dbm":20}]\n\n');
  t.deepEqual(result.commandIds, [9]);
});

test('a spot goes offline after offline_after of silence and online again when heard', (t) => {
  let now = 0;
  const changes: string[] = [];
  const tracker = new OnlineTracker({
    offlineAfterMs: 10000,
    now: () => now,
    onChange: (serial, state) => changes.push(`${serial} ${state}`),
    timers: { setInterval: () => 1, clearInterval: () => {} },
  });
  tracker.heard('1');
  tracker.heard('1');
  now = 9000;
  tracker.heard('2');
  now = 10500;
  tracker.sweep();
  t.deepEqual(changes, ['1 connected', '2 connected', '1 disconnected']);
  t.false(tracker.isOnline('1'));
  t.true(tracker.isOnline('2'));
  tracker.heard('1');
  t.is(changes.at(-1), '1 connected');
  t.is(tracker.onlineCount(), 2);
});
