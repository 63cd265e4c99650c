import fs from 'node:fs';
import test from 'ava';
import { events, ids, openTestStore, tempDir, waitFor } from './helpers.js';

test('pendingSpots lists spots with events above the cursor; readSpot reads after it in id order', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'] });
  const a = ids(await store.append(events('a', 3)));
  const b = ids(await store.append(events('b', 2)));
  t.deepEqual(
    store.pendingSpots('mqtt').sort((x, y) => x.spot.localeCompare(y.spot)),
    [
      { spot: 'a', cursor: 0, lastId: a[2]! },
      { spot: 'b', cursor: 0, lastId: b[1]! },
    ],
  );
  store.advanceCursor('mqtt', 'a', a[1]!);
  t.deepEqual(store.readSpot('mqtt', 'a', store.cursor('mqtt', 'a'), 10).map((e) => e.id), [a[2]]);
  store.advanceCursor('mqtt', 'a', a[2]!);
  t.deepEqual(store.pendingSpots('mqtt').map((p) => p.spot), ['b']);
});

test('a cursor never moves backwards', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'] });
  await store.append(events('a', 5));
  store.advanceCursor('mqtt', 'a', 4);
  store.advanceCursor('mqtt', 'a', 2);
  t.is(store.cursor('mqtt', 'a'), 4);
});

test('an unknown upstream is refused with its name', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'] });
  t.throws(() => store.advanceCursor('kafka', 'a', 1), { message: /unknown upstream "kafka"/ });
});

test('cursors reach the file on their own, without any append', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt', 'server'] });
  await store.append(events('a', 3));
  // Read the file with a second connection, as after a crash: the store is not closed (nor flushed).
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(store.dbPath, { readonly: true });
  t.teardown(() => db.close());
  const rows = () => db.prepare('SELECT upstream, spot, last_id FROM cursors').all();
  t.deepEqual(rows(), []);
  store.advanceCursor('mqtt', 'a', 2);
  await waitFor(() => rows().length > 0, 5000, 'the cursor written to the file');
  t.deepEqual(rows(), [{ upstream: 'mqtt', spot: 'a', last_id: 2 }]);
});

test('onAppended wakes listeners after commit with the spot and its last id', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'] });
  const seen: [string, number][] = [];
  const off = store.onAppended((spot, lastId) => seen.push([spot, lastId]));
  await Promise.all([store.append(events('a', 2)), store.append(events('b', 1))]);
  off();
  await store.append(events('a', 1));
  t.deepEqual(seen.sort(), [['a', 2], ['b', 3]]);
});

test('events at or below every upstream cursor are pruned and the space is given back', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt', 'server'] });
  const big = 'x'.repeat(2000);
  for (let i = 0; i < 10; i++) await store.append(events('a', 300, { data: JSON.stringify({ big, i }) }));
  const last = store.pendingSpots('mqtt')[0]!.lastId;
  const sizeFull = fs.statSync(store.dbPath).size + fs.statSync(`${store.dbPath}-wal`).size;
  store.advanceCursor('mqtt', 'a', last);
  await store.flush(); // a pruning pass, now
  t.is(store.status().events, 3000, 'nothing is pruned while one upstream has not forwarded');
  t.deepEqual(store.listEvents({ limit: 1 })[0]?.forwarded, { mqtt: true, server: false });
  store.advanceCursor('server', 'a', last - 100);
  await waitFor(() => store.status().events === 100, 10_000, 'pruning down to the 100 unforwarded events');
  t.deepEqual(store.listEvents({ limit: 1000 }).map((e) => e.id)[0], last - 99);
  await waitFor(() => store.status().bytes < sizeFull / 2, 10_000, `file to shrink below ${sizeFull / 2}`);
  t.log(`on disk: ${sizeFull} bytes with 3000 events -> ${store.status().bytes} with 100`);
});

test('one spot lagging behind: the forwarded events of the others are pruned all the same, its own above the cursor kept', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  // Interleaved ids: a, b and c take turns, so b's first unforwarded event sits low among the others'.
  for (let round = 0; round < 20; round++) for (const spot of ['a', 'b', 'c']) await store.append(events(spot, 50));
  const all = store.listEvents({ limit: 10_000 });
  const lastOf = (spot: string) => all.filter((e) => e.spot === spot).at(-1)!.id;
  const bIds = all.filter((e) => e.spot === 'b').map((e) => e.id);
  const bCursor = bIds[99]!; // b forwarded its first 100 events only
  store.advanceCursor('mqtt', 'a', lastOf('a'));
  store.advanceCursor('mqtt', 'c', lastOf('c'));
  store.advanceCursor('mqtt', 'b', bCursor);
  await waitFor(() => store.status().events === bIds.length - 100, 10_000, "only b's unforwarded events left");
  t.deepEqual(
    store.listEvents({ limit: 10_000 }).map((e) => e.id),
    bIds.slice(100),
  );
  store.advanceCursor('mqtt', 'b', lastOf('b'));
  await waitFor(() => store.status().events === 0, 10_000, 'everything pruned once b caught up');
  t.deepEqual(store.listEvents({ limit: 10 }), []);
});

test('with no upstream, events are kept and listed', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: [] });
  await store.append(events('a', 10));
  await store.flush(); // a pruning pass, now
  const listed = store.listEvents({ spot: 'a', after: 5, limit: 3 });
  t.deepEqual(listed.map((e) => e.id), [6, 7, 8]);
  t.deepEqual(listed[0]!.forwarded, {});
  t.is(store.status().events, 10);
  t.not(store.status().oldestUnforwardedAgeMs, null);
});

test('status reports pending per upstream and the oldest unforwarded age', async (t) => {
  let clock = 1_000_000;
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'], now: () => clock });
  await store.append(events('a', 4, { timeReceived: 1_000_000 }));
  await store.append(events('b', 2, { timeReceived: 1_000_500 }));
  clock = 1_002_000;
  store.advanceCursor('mqtt', 'a', 4);
  const s = store.status();
  t.deepEqual(s.perUpstream, { mqtt: { pending: 2, spotsPending: 1 } });
  t.is(s.oldestUnforwardedAgeMs, 1500);
});

test('cursors survive a restart and pendingSpots is rebuilt', async (t) => {
  const dataDir = tempDir(t);
  const first = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  await first.append(events('a', 5));
  first.advanceCursor('mqtt', 'a', 3);
  await first.close();
  const second = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  t.deepEqual(second.pendingSpots('mqtt'), [{ spot: 'a', cursor: 3, lastId: 5 }]);
});
