// Per-spot activity for the dashboard: presences now, events per second, recent events within their bounds.
import test from 'ava';
import { SpotActivity } from '../../gateway/src/live/spot-activity.js';
import type { StoredEvent } from '../../gateway/src/store/types.js';

let nextId = 0;
function stored(resource: string, action: string, data: object): StoredEvent {
  return { id: ++nextId, spot: '7', resource, action, data: JSON.stringify(data), pb: null, encoding: 'json', timeReceived: 0, boot: null, seq: null };
}

test('presences now: created and not deleted, cleared when the spot boots (spot create)', (t) => {
  const activity = new SpotActivity({ now: () => 0 });
  t.is(activity.presences('7'), null, 'nothing heard yet');
  activity.record('7', [stored('presence', 'create', { item_code: 'a' }), stored('presence', 'create', { item_code: 'b' }), stored('presence', 'update', { item_code: 'b' })]);
  t.is(activity.presences('7'), 2);
  activity.record('7', [stored('presence', 'delete', { item_code: 'a' }), stored('presence', 'create', { item_code: 'b' })]);
  t.is(activity.presences('7'), 1);
  activity.record('7', [stored('spot', 'create', { spot_id: 7 })]);
  t.is(activity.presences('7'), 0);
});

test('presences per spot are capped, so a spot that never deletes cannot grow memory', (t) => {
  const activity = new SpotActivity({ now: () => 0, maxPresencesPerSpot: 3 });
  activity.record('7', ['a', 'b', 'c', 'd', 'e'].map((code) => stored('presence', 'create', { item_code: code })));
  t.is(activity.presences('7'), 3);
});

test('events per second over the last complete seconds', (t) => {
  let now = 1_000_000;
  const activity = new SpotActivity({ now: () => now });
  for (let s = 0; s < 10; s++) {
    activity.record('7', Array.from({ length: 5 }, () => stored('hit', 'create', {})));
    now += 1000;
  }
  t.is(activity.eventsPerSecond('7'), 5);
  t.is(activity.eventsPerSecond('8'), 0);
});

test('recent events: the newest, in order, at most the count and the bytes set', (t) => {
  const activity = new SpotActivity({ now: () => 0, recentPerSpot: 5, recentBytesPerSpot: 200 });
  const small = Array.from({ length: 8 }, () => stored('hit', 'create', {}));
  activity.record('7', small);
  t.deepEqual(
    activity.recent('7').map((e) => e.id),
    small.slice(3).map((e) => e.id),
  );
  const big = Array.from({ length: 3 }, () => stored('hit', 'create', { pad: 'x'.repeat(90) }));
  activity.record('7', big);
  t.deepEqual(
    activity.recent('7').map((e) => e.id),
    big.slice(1).map((e) => e.id),
  );
});

test('spots followed are capped, the least recently heard from forgotten first, so invented serials cannot grow memory', (t) => {
  const activity = new SpotActivity({ now: () => 0, maxSpots: 3 });
  for (const spot of ['1', '2', '3']) activity.record(spot, [stored('presence', 'create', { item_code: `i${spot}` })]);
  activity.record('1', [stored('hit', 'create', {})]);
  activity.record('4', [stored('presence', 'create', { item_code: 'i4' })]);
  t.is(activity.size, 3);
  t.is(activity.presences('2'), null, 'the least recently heard from is forgotten');
  t.deepEqual(['1', '3', '4'].map((spot) => activity.presences(spot)), [1, 1, 1]);
  for (let n = 5; n < 1000; n++) activity.record(String(n), [stored('hit', 'create', {})]);
  t.is(activity.size, 3);
});

test('presences over all spots are capped: past the cap new ones are not counted, and deletes and forgotten spots free room', (t) => {
  const activity = new SpotActivity({ now: () => 0, maxSpots: 2, maxPresences: 4 });
  activity.record('1', ['a', 'b', 'c'].map((code) => stored('presence', 'create', { item_code: code })));
  activity.record('2', ['d', 'e', 'f'].map((code) => stored('presence', 'create', { item_code: code })));
  t.deepEqual([activity.presences('1'), activity.presences('2')], [3, 1]);
  activity.record('1', [stored('presence', 'delete', { item_code: 'a' })]);
  activity.record('2', [stored('presence', 'create', { item_code: 'g' })]);
  t.deepEqual([activity.presences('1'), activity.presences('2')], [2, 2]);
  activity.record('3', [stored('presence', 'create', { item_code: 'h' })]);
  t.is(activity.presences('1'), null, 'spot 1 forgotten, its presences freed');
  activity.record('3', ['i', 'j'].map((code) => stored('presence', 'create', { item_code: code })));
  t.is(activity.presences('3'), 2, 'room freed by the forgotten spot: 2 + 2 = the cap of 4');
});
