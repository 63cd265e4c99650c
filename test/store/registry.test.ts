import test from 'ava';
import { REGISTRY_CACHE } from '../../gateway/src/store/spot-registry.js';
import { openTestStore, tempDir } from './helpers.js';

test('the registry records posts, first/last seen and counters, and survives a restart', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir });
  store.spots.recordPost('4711', { firmwareVersion: '3.2.1', events: 10, rejected: 1, duplicates: 2, now: 1000 });
  store.spots.recordPost('4711', { firmwareVersion: null, events: 5, rejected: 0, duplicates: 0, now: 2000 });
  store.spots.touch('4711', { now: 2500 });
  const expected = {
    serial: '4711',
    firmwareVersion: '3.2.1',
    firstSeen: 1000,
    lastSeen: 2500,
    posts: 2,
    events: 15,
    rejected: 1,
    duplicates: 2,
    spotCreate: null,
    configCreate: null,
    config: null,
  };
  t.deepEqual(store.spots.get('4711'), expected);
  t.is(store.spots.get('nope'), null);
  await store.close();
  const again = openTestStore(t, { dataDir });
  t.deepEqual(again.spots.page({ limit: 10 }), [expected]);
});

test('spot create, config create and config updates as last reported', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, now: () => 42 });
  store.spots.recordSpotCreate('s1', { serial: 's1', model: 'spot-4' });
  store.spots.recordConfigCreate('s1', { rfid_power_dbm: 27, rfid_region: 'eu' });
  store.spots.mergeConfig('s1', { rfid_power_dbm: 20 });
  const s = store.spots.get('s1')!;
  t.deepEqual(s.spotCreate, { serial: 's1', model: 'spot-4' });
  t.deepEqual(s.configCreate, { rfid_power_dbm: 27, rfid_region: 'eu' });
  t.deepEqual(s.config, { rfid_power_dbm: 20, rfid_region: 'eu' });
  t.is(s.firstSeen, 42);
  s.config!['rfid_power_dbm'] = 1;
  t.deepEqual(store.spots.get('s1')!.config, { rfid_power_dbm: 20, rfid_region: 'eu' }, 'callers get copies');
  await store.close();
  t.deepEqual(openTestStore(t, { dataDir }).spots.get('s1')!.config, { rfid_power_dbm: 20, rfid_region: 'eu' });
});

test('rejected messages are kept with raw bytes, newest first, and counted', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir });
  store.rejected.add({ spot: 'a', raw: new Uint8Array([1, 2, 3]), reason: 'not JSON at byte 0', offset: 0, time: 10 });
  store.rejected.add({ spot: 'b', raw: Buffer.from('[1,'), reason: 'unterminated', offset: 99, time: 11 });
  await store.flush();
  const listed = store.rejected.list({ limit: 10 });
  t.deepEqual(
    listed.map((r) => ({ ...r, raw: [...r.raw] })),
    [
      { id: 2, spot: 'b', raw: [...Buffer.from('[1,')], reason: 'unterminated', offset: 99, time: 11 },
      { id: 1, spot: 'a', raw: [1, 2, 3], reason: 'not JSON at byte 0', offset: 0, time: 10 },
    ],
  );
  t.deepEqual(store.rejected.list({ limit: 10, spot: 'a' }).map((r) => r.id), [1]);
  t.is(store.rejected.count(), 2);
  t.is(store.status().rejected, 2);
  await store.close();
  t.is(openTestStore(t, { dataDir }).rejected.count(), 2);
});

test('only the newest 10000 rejected messages are kept, all are counted', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t) });
  for (let i = 0; i < 10_050; i++) {
    store.rejected.add({ spot: 'a', raw: new Uint8Array([i & 255]), reason: `bad ${i}`, offset: i, time: i });
  }
  await store.flush();
  const kept = store.rejected.list({ limit: 20_000 });
  t.is(kept.length, 10_000);
  t.is(kept[0]!.reason, 'bad 10049');
  t.is(kept.at(-1)!.reason, 'bad 50');
  t.is(store.rejected.count(), 10_050);
});

test('with more spots than the registry keeps in memory, every one is counted, listed and updated from the table', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir });
  const spots = REGISTRY_CACHE + 500;
  for (let i = 0; i < spots; i++) store.spots.recordPost(String(100000 + i), { firmwareVersion: '1.0', events: 1, rejected: 0, duplicates: 0, now: i });
  await store.flush();
  // The first ones left memory long ago: their entries come back from the table.
  store.spots.recordPost('100000', { firmwareVersion: '2.0', events: 4, rejected: 1, duplicates: 0, now: spots });
  t.like(store.spots.get('100000'), { firmwareVersion: '2.0', posts: 2, events: 5, rejected: 1, firstSeen: 0, lastSeen: spots });
  t.like(store.spots.get('100001'), { posts: 1, events: 1, firstSeen: 1 });
  t.is(store.spots.count(), spots);
  store.spots.touch('new', { now: spots + 1 });
  t.is(store.spots.count(), spots + 1, 'counted before it is written');
  const listed = store.spots.page({ limit: spots + 10 });
  t.is(listed.length, spots + 1);
  t.like(listed[0], { serial: '100000', posts: 2 });
  t.is(listed.at(-1)!.serial, 'new', 'not written yet, in its place');
  // Pages over the table and memory alike, each way.
  const last = 100000 + spots - 1;
  t.deepEqual(store.spots.page({ after: String(last - 2), limit: 5 }).map((s) => s.serial), [String(last - 1), String(last), 'new']);
  t.deepEqual(store.spots.page({ before: 'new', limit: 2 }).map((s) => s.serial), [String(last), String(last - 1)]);
  t.deepEqual(store.spots.page({ before: '100001', limit: 2 }).map((s) => [s.serial, s.posts]), [['100000', 2]], 'the entry in memory over its row');
  await store.close();
  const again = openTestStore(t, { dataDir });
  t.is(again.spots.count(), spots + 1);
  t.like(again.spots.get('100000'), { posts: 2, events: 5 });
});
