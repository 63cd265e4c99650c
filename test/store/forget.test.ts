// Forgetting silent spots (docs/storage.md, "Forgetting silent spots"): exactly the spots silent
// long enough with nothing pending go; their events in the buffer are not touched.
import test from 'ava';
import { FORGET_MAX_PER_STEP, FORGET_SCAN_ROWS } from '../../gateway/src/store/forget.js';
import { event, ids, openTestStore, tempDir } from './helpers.js';

const DAY = 24 * 3600 * 1000;
const FORGET_AFTER = 30 * DAY;

function clock(start: number): { now: () => number; set(t: number): void } {
  let t = start;
  return { now: () => t, set: (to) => (t = to) };
}

const command = { resource: 'config', action: 'update', data: '{"rfid_power_dbm":20}', source: 'api', ttlMs: 365 * DAY };

test('a sweep forgets exactly the spots silent past forget_after with nothing pending, stored or queued', async (t) => {
  const time = clock(1_000_000);
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'], now: time.now, indexFlushMs: 0 });
  const seen = (serial: string, at: number) => store.spots.recordPost(serial, { firmwareVersion: null, events: 1, rejected: 0, duplicates: 0, now: at });

  for (const s of ['done', 'pending', 'stored', 'command', 'quiet']) seen(s, time.now());
  seen('recent', time.now() + FORGET_AFTER);
  const [done] = ids(await store.append([event('done')]));
  await store.append([event('pending')]);
  const [stored] = ids(await store.append([event('stored')]));
  await store.commands.enqueue('command', command);
  store.advanceCursor('mqtt', 'done', done!);
  await store.flush();
  // Forwarded, but not pruned yet: its event is still in the buffer.
  store.advanceCursor('mqtt', 'stored', stored!);
  time.set(time.now() + FORGET_AFTER + 1000);

  const result = store.forgetSilentSpots(time.now() - FORGET_AFTER);

  t.deepEqual(result.forgotten, ['done', 'quiet']);
  t.is(result.scanned, 6);
  t.deepEqual(store.spots.page({ limit: 100 }).map((s) => s.serial), ['command', 'pending', 'recent', 'stored']);
  t.is(store.spots.count(), 4);
  t.is(store.cursor('mqtt', 'done'), 0, 'its cursor went with it');
  t.deepEqual(store.pendingSpots('mqtt').map((p) => p.spot), ['pending']);
  t.is(store.commands.pendingFor('command', time.now()).length, 1);
});

test('forgetting leaves the events in the buffer and survives a restart', async (t) => {
  const dataDir = tempDir(t);
  const time = clock(5 * DAY);
  const store = openTestStore(t, { dataDir, now: time.now });
  store.spots.touch('kept-events', { now: time.now() });
  await store.append([event('kept-events'), event('kept-events')]);
  time.set(time.now() + FORGET_AFTER + 1);

  // No upstream: nothing to forward, so stored events do not hold a spot back.
  t.deepEqual(store.forgetSilentSpots(time.now() - FORGET_AFTER).forgotten, ['kept-events']);
  t.is(store.listEvents({ spot: 'kept-events', limit: 10 }).length, 2);
  await store.close();

  const again = openTestStore(t, { dataDir, now: time.now });
  t.is(again.spots.get('kept-events'), null);
  t.is(again.listEvents({ spot: 'kept-events', limit: 10 }).length, 2);
});

test('a forgotten spot that posts again is new: forwarded from its new events, numbering afresh, duplicates total kept', async (t) => {
  const dataDir = tempDir(t);
  const time = clock(DAY);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'], now: time.now, indexFlushMs: 0 });
  store.spots.touch('7', { now: time.now() });
  const numbered = { boot: 1, seq: 5 };
  const [first] = ids(await store.append([event('7', numbered)]));
  t.deepEqual(await store.append([event('7', numbered)]), [{ duplicate: true }]);
  store.advanceCursor('mqtt', '7', first!);
  await store.flush();
  t.is(store.status().events, 0, 'forwarded and pruned');
  time.set(time.now() + FORGET_AFTER + 1);
  t.deepEqual(store.forgetSilentSpots(time.now() - FORGET_AFTER).forgotten, ['7']);
  t.is(store.status().duplicates, 1, 'the duplicates dropped for it still count');

  store.spots.touch('7', { now: time.now() });
  // The same (boot, seq) as before it was forgotten: its numbering is gone, so it is stored.
  const [again] = ids(await store.append([event('7', numbered)]));
  t.true(again! > first!);
  t.deepEqual(store.pendingSpots('mqtt'), [{ spot: '7', cursor: 0, lastId: again! }]);
  t.deepEqual(
    store.readSpot('mqtt', '7', 0, 10).map((e) => e.id),
    [again!],
  );
  t.is(store.spots.get('7')!.firstSeen, time.now());
  await store.close();
  t.is(openTestStore(t, { dataDir, upstreams: ['mqtt'] }).status().duplicates, 1);
});

test('each sweep looks at a bounded number of registry rows and goes round until every silent spot is forgotten', async (t) => {
  const time = clock(DAY);
  const store = openTestStore(t, { dataDir: tempDir(t), now: time.now });
  const spots = FORGET_SCAN_ROWS + FORGET_MAX_PER_STEP + 1;
  for (let i = 0; i < spots; i++) store.spots.touch(String(100000 + i), { now: time.now() });
  await store.flush();
  time.set(time.now() + FORGET_AFTER + 1);

  let forgotten = 0;
  for (let sweep = 0; sweep < 20 && store.spots.count() > 0; sweep++) {
    const r = store.forgetSilentSpots(time.now() - FORGET_AFTER);
    t.true(r.scanned <= FORGET_SCAN_ROWS);
    t.true(r.forgotten.length <= FORGET_MAX_PER_STEP);
    forgotten += r.forgotten.length;
  }
  t.is(forgotten, spots);
  t.is(store.spots.count(), 0);
});
