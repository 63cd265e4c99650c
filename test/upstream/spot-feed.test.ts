// SpotFeed: the read-ahead buffer must never strand events appended while a turn used it.
import test from 'ava';
import { SpotFeed } from '../../gateway/src/upstream/spot-feed.js';
import type { ForwardEvent } from '../../gateway/src/upstream/index.js';
import { MemorySource } from './fake-source.js';

function event(spot: string) {
  return { spot, resource: 'presence', action: 'create', data: '{}', pb: null, timeReceived: 0 };
}

function drain(feed: SpotFeed, room: number): ForwardEvent[] {
  const sent: ForwardEvent[] = [];
  feed.take(room, (e) => (sent.push(e), true));
  return sent;
}

test('events appended while a spot drains its read-ahead are published on a later turn', (t) => {
  const source = new MemorySource();
  const feed = new SpotFeed(source, 'mqtt', 64);
  source.onAppended((spot, lastId) => feed.appended(spot, lastId));
  feed.reset();
  source.append(event('A'), event('A'), event('A'));
  // Room for one: two events stay in the read-ahead buffer.
  t.deepEqual(drain(feed, 1).map((e) => e.id), [1]);
  source.append(event('A'), event('A'));
  // The buffer is used up first, then the new events must still come.
  const rest = [...drain(feed, 100), ...drain(feed, 100)].map((e) => e.id);
  t.deepEqual(rest, [2, 3, 4, 5]);
});

test('a spot whose fresh read came back short and has nothing new leaves the rotation', (t) => {
  const source = new MemorySource();
  const feed = new SpotFeed(source, 'mqtt', 64);
  source.onAppended((spot, lastId) => feed.appended(spot, lastId));
  feed.reset();
  source.append(event('A'), event('B'));
  t.is(drain(feed, 100).length, 2);
  t.deepEqual(drain(feed, 100), []);
  source.append(event('B'));
  t.deepEqual(drain(feed, 100).map((e) => e.id), [3]);
});

test('a spot that caught up is fed from the events each commit hands over: no store reads', (t) => {
  const source = new MemorySource();
  const feed = new SpotFeed(source, 'mqtt', 64);
  source.onAppended((spot, lastId, events) => feed.appended(spot, lastId, events));
  feed.reset();
  source.append(event('A'));
  t.deepEqual(drain(feed, 100).map((e) => e.id), [1]);
  const readsWhenCaughtUp = source.readCount;
  for (let i = 0; i < 10; i++) source.append(event('A'), event('B'));
  const sent = drain(feed, 100).map((e) => `${e.spot}${e.id}`);
  t.is(sent.filter((s) => s.startsWith('A')).length, 10);
  t.is(source.readCount - readsWhenCaughtUp, 1, 'only B, not caught up yet, read the store');
  t.is(feed.tailed, 0);
});

test('random appends, window sizes and tail limits: every event once, in order per spot', async (t) => {
  const fc = await import('fast-check');
  const step = fc.oneof(
    fc.record({ append: fc.array(fc.constantFrom('A', 'B', 'C'), { minLength: 1, maxLength: 9 }) }),
    fc.record({ room: fc.integer({ min: 1, max: 12 }) }),
  );
  const property = fc.property(
    fc.array(step, { maxLength: 60 }),
    fc.integer({ min: 0, max: 8 }),
    fc.boolean(),
    (steps, tailLimit, handOver) => {
      const source = new MemorySource();
      source.handOver = handOver;
      const feed = new SpotFeed(source, 'mqtt', 4, tailLimit);
      source.onAppended((spot, lastId, events) => feed.appended(spot, lastId, events));
      feed.reset();
      const sent: ForwardEvent[] = [];
      for (const s of steps) {
        if ('append' in s) source.append(...s.append.map(event));
        else feed.take(s.room, (e) => (sent.push(e), true));
      }
      for (let i = 0; i < 1000 && sent.length < source.events.length; i++) feed.take(100, (e) => (sent.push(e), true));
      const ids = sent.map((e) => e.id);
      if (new Set(ids).size !== ids.length || ids.length !== source.events.length) return false;
      return ['A', 'B', 'C'].every((spot) => {
        const mine = sent.filter((e) => e.spot === spot).map((e) => e.id);
        return mine.every((id, i) => i === 0 || id > mine[i - 1]!);
      });
    },
  );
  t.notThrows(() => fc.assert(property, { numRuns: 500 }));
});

/** What the forwarder does on PUBACKs: the cursor of each spot moves to the highest id sent. */
function ackAll(source: MemorySource, sent: readonly ForwardEvent[]): void {
  for (const e of sent) source.advanceCursor('mqtt', e.spot, e.id);
}

test('spots idle since the last look with all they sent acknowledged are forgotten, and their next events go out once', (t) => {
  const source = new MemorySource();
  const feed = new SpotFeed(source, 'mqtt', 64);
  source.onAppended((spot, lastId, events) => feed.appended(spot, lastId, events));
  feed.reset();
  source.append(event('A'), event('B'));
  ackAll(source, drain(feed, 100));
  t.is(feed.releaseIdle(), 0, 'both were active since the previous look');
  t.is(feed.releaseIdle(), 2);
  t.is(feed.tracked, 0);
  source.append(event('A'));
  t.deepEqual(drain(feed, 100).map((e) => e.id), [3]);
});

test('a spot with an event not acknowledged, or one not sent yet, is kept', (t) => {
  const source = new MemorySource();
  const feed = new SpotFeed(source, 'mqtt', 64);
  source.onAppended((spot, lastId, events) => feed.appended(spot, lastId, events));
  feed.reset();
  source.append(event('A'), event('B'), event('B'));
  const sent = drain(feed, 2);
  t.deepEqual(sent.map((e) => `${e.spot}${e.id}`), ['A1', 'B2']);
  feed.releaseIdle();
  t.is(feed.releaseIdle(), 0, 'A is not acknowledged, B has one not sent');
  ackAll(source, sent);
  t.is(feed.releaseIdle(), 1, 'A now; B still holds event 3');
  t.deepEqual(drain(feed, 100).map((e) => e.id), [3]);
});

test('random appends, turns, acknowledgements and looks for idle spots: every event once, in order per spot', async (t) => {
  const fc = await import('fast-check');
  const step = fc.oneof(
    fc.record({ append: fc.array(fc.constantFrom('A', 'B', 'C'), { minLength: 1, maxLength: 9 }) }),
    fc.record({ room: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ ack: fc.constant(true) }),
    fc.record({ release: fc.constant(true) }),
  );
  const property = fc.property(fc.array(step, { maxLength: 80 }), fc.integer({ min: 1, max: 5 }), (steps, releaseEvery) => {
    const source = new MemorySource();
    const feed = new SpotFeed(source, 'mqtt', 4, 8, releaseEvery);
    source.onAppended((spot, lastId, events) => feed.appended(spot, lastId, events));
    feed.reset();
    const sent: ForwardEvent[] = [];
    for (const s of steps) {
      if ('append' in s) source.append(...s.append.map(event));
      else if ('room' in s) feed.take(s.room, (e) => (sent.push(e), true));
      else if ('ack' in s) ackAll(source, sent);
      else feed.releaseIdle();
    }
    for (let i = 0; i < 1000 && sent.length < source.events.length; i++) feed.take(100, (e) => (sent.push(e), true));
    const ids = sent.map((e) => e.id);
    if (new Set(ids).size !== ids.length || ids.length !== source.events.length) return false;
    return ['A', 'B', 'C'].every((spot) => {
      const mine = sent.filter((e) => e.spot === spot).map((e) => e.id);
      return mine.every((id, i) => i === 0 || id > mine[i - 1]!);
    });
  });
  t.notThrows(() => fc.assert(property, { numRuns: 500 }));
});
