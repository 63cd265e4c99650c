// SpotFeed: the read-ahead buffer must never strand events appended while a turn used it.
import test from 'ava';
import { SpotFeed } from '../../gateway/src/upstream/spot-feed.js';
import type { ForwardEvent } from '../../gateway/src/upstream/index.js';
import { MemorySource } from './fake-source.js';

function event(spot: string) {
  return { spot, resource: 'presence', action: 'create', data: '{}', pb: null };
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
