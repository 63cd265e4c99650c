// The quarantine table: a poison event is copied aside and its spot's cursor moves past it in one step;
// pruning, the size cap and restarts never lose the copy; only the spot's next event can be quarantined.
import test from 'ava';
import Database from 'better-sqlite3';
import { event, events, ids, openTestStore, tempDir } from './helpers.js';

const MiB = 1024 * 1024;

test('a quarantined event is copied aside and the cursor moves past it in one transaction, on disk before add() returns', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  const pb = new Uint8Array([8, 1, 18, 3]);
  const [a, poison, c] = ids(await store.append([event('7'), event('7', { pb, encoding: 'pb' }), event('7')]));
  store.advanceCursor('mqtt', '7', a!);
  const entry = store.quarantine.add('mqtt', '7', poison!, 'the broker dropped the connection 3 times', 3);
  t.like(entry, { upstream: 'mqtt', eventId: poison, spot: '7', resource: 'hit', action: 'create', encoding: 'pb', strikes: 3, reason: 'the broker dropped the connection 3 times', resends: 0 });
  t.deepEqual([...entry.pb!], [...pb]);
  t.is(store.cursor('mqtt', '7'), poison!);
  t.deepEqual(store.readSpot('mqtt', '7', store.cursor('mqtt', '7'), 10).map((e) => e.id), [c], 'forwarding goes on with the next event');
  // Read through another connection: both writes are committed already (no group commit waited for).
  const db = new Database(store.dbPath, { readonly: true });
  t.teardown(() => db.close());
  t.deepEqual(db.prepare("SELECT last_id FROM cursors WHERE upstream = 'mqtt' AND spot = '7'").get(), { last_id: poison });
  t.deepEqual(db.prepare('SELECT event_id, strikes FROM quarantine').all(), [{ event_id: poison, strikes: 3 }]);
  t.is(store.quarantine.count('mqtt'), 1);
  t.is(store.quarantine.count('other'), 0);
});

test('only the spot\'s next event for that upstream can be quarantined: anything else is refused and nothing is written', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'] });
  const [a, b] = ids(await store.append([event('7'), event('7')]));
  t.throws(() => store.quarantine.add('mqtt', '7', b!, 'x', 3), { message: /spot 7: event \d+ is not the next one for upstream mqtt \(cursor 0, next \d+\); not quarantined/ });
  t.throws(() => store.quarantine.add('mqtt', '8', a!, 'x', 3), { message: /not the next one/ });
  t.is(store.cursor('mqtt', '7'), 0);
  t.is(store.quarantine.count(), 0);
});

test('pruning, the size cap and a restart never lose a quarantined event', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'], maxBytes: 1 * MiB, policy: 'drop-oldest' });
  const [poison] = ids(await store.append([event('7', { data: JSON.stringify({ item: 'poison' }) })]));
  const entry = store.quarantine.add('mqtt', '7', poison!, 'dropped 3 times', 3);
  // Far more than the cap, forwarded and not: the events table is pruned and capped around it (the cap takes forwarded events first, uncounted; then drops unforwarded ones).
  for (let round = 0; round < 16; round++) {
    const spot = round % 2 === 0 ? 'forwarded' : `s${round % 3}`;
    const stored = ids(await store.append(events(spot, 400, { data: JSON.stringify({ pad: 'p'.repeat(300) }) })));
    if (round % 2 === 0) store.advanceCursor('mqtt', spot, stored.at(-1)!);
  }
  await store.flush();
  t.true(store.status().dropped > 0, 'the cap dropped events');
  t.deepEqual(store.listEvents({ spot: '7', limit: 10 }), [], 'the event itself is gone from the log');
  await store.close();
  const again = openTestStore(t, { dataDir, upstreams: ['mqtt'], maxBytes: 1 * MiB });
  const [kept] = again.quarantine.list({ limit: 10 });
  t.like(kept, { id: entry.id, eventId: poison, spot: '7', data: JSON.stringify({ item: 'poison' }), reason: 'dropped 3 times' });
  t.is(again.quarantine.count('mqtt'), 1);
});

test('resends that fail are noted on the entry; remove() takes it out', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'] });
  const [poison] = ids(await store.append([event('7')]));
  const entry = store.quarantine.add('mqtt', '7', poison!, 'dropped 3 times', 3);
  store.quarantine.noteResend(entry.id, 'the connection was lost while it was being resent: connection closed', 1);
  t.like(store.quarantine.get(entry.id), { strikes: 4, resends: 1, reason: 'the connection was lost while it was being resent: connection closed' });
  t.true(typeof store.quarantine.get(entry.id)!.lastResendAt === 'number');
  t.deepEqual(store.quarantine.list({ upstream: 'mqtt', after: entry.id, limit: 10 }), []);
  t.true(store.quarantine.remove(entry.id));
  t.false(store.quarantine.remove(entry.id));
  t.is(store.quarantine.get(entry.id), null);
  t.is(store.quarantine.count(), 0);
});

test('the suspect and its strikes survive a restart; saving null forgets it', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  t.is(store.quarantine.suspect('mqtt'), null);
  store.quarantine.saveSuspect('mqtt', { spot: '7', eventId: 12, strikes: 2, since: 1000 });
  await store.close();
  const again = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  t.deepEqual(again.quarantine.suspect('mqtt'), { spot: '7', eventId: 12, strikes: 2, since: 1000 });
  again.quarantine.saveSuspect('mqtt', null);
  t.is(again.quarantine.suspect('mqtt'), null);
});
