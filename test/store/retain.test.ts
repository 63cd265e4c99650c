// buffer.retain: forwarded events stay for `retain` after their commit (the store's clock, injected
// here), then go; the size cap removes retained forwarded events before any unforwarded one.
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { DB_FILE } from '../../gateway/src/store/index.js';
import { migrate, migrations, SCHEMA_VERSION } from '../../gateway/src/store/migrations.js';
import type { Store } from '../../gateway/src/store/types.js';
import { events, ids, openTestStore, tempDir, waitFor } from './helpers.js';

const HOUR = 3_600_000;
const MiB = 1024 * 1024;
const T0 = 1_800_000_000_000;
const payload = (i: number) => JSON.stringify({ item: `E200-3412-${String(i).padStart(8, '0')}`, pad: 'p'.repeat(300) });

function clock(): { now: () => number; t: number } {
  const c = { t: T0, now: () => c.t };
  return c;
}

const spotsOf = (store: Store) => store.listEvents({ limit: 100_000 }).map((e) => e.spot);
const idsOf = (store: Store, spot?: string) => store.listEvents({ spot, limit: 100_000 }).map((e) => e.id);

/** Forwards everything stored for the spot (the upstream acknowledged it). */
function forward(store: Store, spot: string): void {
  const last = store.pendingSpots('mqtt').find((p) => p.spot === spot)?.lastId;
  if (last !== undefined) store.advanceCursor('mqtt', spot, last);
}

test('forwarded events stay for retain after their commit by the store clock, not their time_received', async (t) => {
  const c = clock();
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'], retainMs: HOUR, now: c.now });
  // A spot clock (or a receipt time) far in the past changes nothing: the commit time counts.
  const first = ids(await store.append(events('a', 10, { timeReceived: 0 })));
  forward(store, 'a');
  await store.flush();
  t.is(store.status().events, 10, 'forwarded, but retained');
  t.deepEqual(store.listEvents({ limit: 100 }).map((e) => e.forwarded.mqtt), Array(10).fill(true), '/api/events shows them as forwarded');

  c.t = T0 + HOUR / 2;
  const second = ids(await store.append(events('a', 10)));
  forward(store, 'a');
  await store.flush();
  t.is(store.status().events, 20);

  c.t = T0 + HOUR - 1;
  await store.flush();
  t.deepEqual(idsOf(store), [...first, ...second], 'one ms before retain is over, all are kept');

  c.t = T0 + HOUR;
  await store.flush();
  t.deepEqual(idsOf(store), second, 'the first commit went once retained for an hour');
  t.is(store.status().historyFrom, T0, 'the history is complete after the pruned commit');
  t.is(store.status().retainMs, HOUR);

  c.t = T0 + HOUR + HOUR / 2;
  await store.flush();
  t.deepEqual(idsOf(store), []);
  t.is(store.status().dropped, 0, 'pruning is not dropping');
});

test('unforwarded events are never pruned by age, and the maintenance timer prunes without appends', async (t) => {
  const c = clock();
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'], retainMs: HOUR, now: c.now });
  await store.append(events('lagging', 5));
  await store.append(events('done', 5));
  forward(store, 'done');
  await store.flush();
  c.t = T0 + 10 * HOUR;
  // No flush, no append: the timer's pass (hasWork) takes the forwarded ones.
  await waitFor(() => store.status().events === 5, 10_000, 'the forwarded events to be pruned by the timer');
  t.deepEqual(spotsOf(store), Array(5).fill('lagging'));
});

test('while a spot lags, the per-spot pass prunes the others only once retained, each commit at its time', async (t) => {
  const c = clock();
  // indexFlushMs 0: event_spots holds every event at once (the per-spot pass deletes what it holds).
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'], retainMs: HOUR, now: c.now, indexFlushMs: 0 });
  const lag = ids(await store.append(events('lagging', 5)));
  const early = ids(await store.append(events('b', 5)));
  forward(store, 'b');
  await store.flush();
  c.t = T0 + HOUR / 2;
  const late = ids(await store.append(events('b', 5)));
  forward(store, 'b');
  await store.flush();

  c.t = T0 + HOUR;
  await waitFor(() => idsOf(store, 'b').length === 5, 10_000, "b's first commit to be pruned");
  t.deepEqual(idsOf(store, 'b'), late, "b's later commit waits for its own hour");
  t.deepEqual(idsOf(store, 'lagging'), lag);

  c.t = T0 + HOUR + HOUR / 2;
  await waitFor(() => idsOf(store, 'b').length === 0, 10_000, "b's second commit to be pruned");
  t.deepEqual(idsOf(store), lag, 'only the lagging spot is left');
  t.not(early[0], undefined);
});

test('retain 0 prunes forwarded events at once and keeps no history', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'], retainMs: 0 });
  await store.append(events('a', 10));
  forward(store, 'a');
  await store.flush();
  t.is(store.status().events, 0);
  t.is(store.status().historyFrom, null);
});

test('the marks survive a restart; a file kept with retain 0 before has its history from the open', async (t) => {
  const c = clock();
  const dataDir = tempDir(t);
  const before = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: 0, now: c.now });
  await before.append(events('a', 3));
  await before.close();

  c.t = T0 + 1000;
  const first = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: HOUR, now: c.now });
  t.is(first.status().historyFrom, T0 + 1000, 'retain was 0: forwarded events of then are gone');
  forward(first, 'a');
  await first.append(events('a', 4));
  forward(first, 'a');
  await first.close();

  c.t = T0 + HOUR / 2;
  const second = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: HOUR, now: c.now });
  await second.flush();
  t.is(second.status().events, 7, 'nothing is an hour old yet');
  t.is(second.status().historyFrom, T0 + 1000);

  c.t = T0 + 1000 + HOUR;
  await second.flush();
  t.is(second.status().events, 0, 'committed (or marked at the open) an hour ago: gone');
});

test('a bad retainMs is refused with the reason', (t) => {
  t.throws(() => openTestStore(t, { dataDir: tempDir(t), retainMs: -1 }), { instanceOf: RangeError, message: /retainMs must be a whole number of ms >= 0, got -1/ });
});

for (const policy of ['drop-oldest', 'reject'] as const) {
  test(`the cap (${policy}) removes retained forwarded events, oldest first, before any unforwarded one`, async (t) => {
    const maxBytes = 2 * MiB;
    const c = clock();
    c.t = T0 - 1000;
    const store = openTestStore(t, { dataDir: tempDir(t), maxBytes, policy, upstreams: ['mqtt'], retainMs: 24 * HOUR, now: c.now });
    // About 1.4 MiB of forwarded history, then twice that of unforwarded events.
    const receivedAt = new Map<number, number>();
    for (let round = 0; round < 8; round++) {
      const got = ids(await store.append(events('f', 500, { timeReceived: T0 + round }).map((e, k) => ({ ...e, data: payload(round * 500 + k) }))));
      for (const id of got) receivedAt.set(id, T0 + round);
      forward(store, 'f');
    }
    await store.flush();
    const history = idsOf(store, 'f');
    t.is(history.length, 4000);
    const unforwarded: number[] = [];
    let refused = false;
    for (let round = 0; round < 24; round++) {
      const before = store.status();
      let got: number[];
      try {
        got = ids(await store.append(events('u', 250).map((e, k) => ({ ...e, data: payload(k) }))));
      } catch (err) {
        // Only once no forwarded event is left: reject refuses, never a forwarded event kept instead.
        t.is(policy, 'reject', String(err));
        t.is(idsOf(store, 'f').length, 0, 'refused while forwarded events were left');
        refused = true;
        break;
      }
      unforwarded.push(...got);
      const now = store.status();
      if (now.dropped > before.dropped) t.is(idsOf(store, 'f').length, 0, 'an unforwarded event was dropped while forwarded ones were left');
      // One transaction of 500 cut and 250 stored events takes the WAL past its reserve (~4 % of the cap here, the same without retain).
      t.true(now.bytes <= maxBytes * 1.1, `on disk ${now.bytes} > cap ${maxBytes}`);
      const f = idsOf(store, 'f');
      t.deepEqual(f, history.slice(history.length - f.length), 'forwarded events go oldest first');
    }
    const s = store.status();
    t.log(`${policy}: forwarded kept ${idsOf(store, 'f').length} of 4000, unforwarded stored ${unforwarded.length}, dropped ${s.dropped}`);
    t.true(idsOf(store, 'f').length < 4000, 'the cap took forwarded events');
    t.true(unforwarded.length >= 2000, 'unforwarded events were stored in their place');
    // Then, with nothing forwarded left, the policy: drop-oldest drops unforwarded events, reject refuses.
    if (policy === 'reject') t.true(refused && s.dropped === 0);
    else t.true(s.dropped > 0 && idsOf(store, 'u')[0] === unforwarded[s.dropped], 'the oldest unforwarded went');
    const kept = idsOf(store, 'f');
    const newestCut = history[history.length - kept.length - 1]!;
    t.is(s.historyFrom, receivedAt.get(newestCut) ?? null, 'the history now begins after the newest cut event');
  });
}

test('the cap takes forwarded events above a lagging spot before that spot\'s unforwarded ones', async (t) => {
  const maxBytes = 2 * MiB;
  const store = openTestStore(t, { dataDir: tempDir(t), maxBytes, policy: 'drop-oldest', upstreams: ['mqtt'], retainMs: 24 * HOUR, indexFlushMs: 0 });
  // The lagging spot's events are the oldest: the forwarded ones above them are what the cap must find.
  const lag = ids(await store.append(events('lagging', 500).map((e, k) => ({ ...e, data: payload(k) }))));
  for (let round = 0; round < 12; round++) {
    await store.append(events('f', 500).map((e, k) => ({ ...e, data: payload(k) })));
    forward(store, 'f');
  }
  const s = store.status();
  t.log(`kept ${idsOf(store, 'f').length} forwarded, ${idsOf(store, 'lagging').length} lagging, dropped ${s.dropped}`);
  t.is(s.dropped, 0, 'no unforwarded event was dropped');
  t.deepEqual(idsOf(store, 'lagging'), lag);
  t.true(idsOf(store, 'f').length < 6000, 'forwarded events were cut');
  t.true(s.bytes <= maxBytes * 1.1, `on disk ${s.bytes} > cap ${maxBytes}`);
});

test('schema 6: a file from before retain gets its stored events marked at the open', async (t) => {
  const dataDir = tempDir(t);
  const db = new Database(path.join(dataDir, DB_FILE));
  db.pragma('journal_mode = WAL');
  migrate(db, migrations.slice(0, 5));
  db.prepare("INSERT INTO meta (key, value) VALUES ('instance_id', 'old-instance')").run();
  db.prepare(
    "INSERT INTO events (spot, resource, action, data, pb, encoding, time_received, boot, seq, size) VALUES ('a', 'hit', 'create', '{}', NULL, 'json', 1, NULL, NULL, 2)",
  ).run();
  db.prepare("INSERT INTO cursors (upstream, spot, last_id) VALUES ('mqtt', 'a', 1)").run();
  db.close();

  const c = clock();
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: HOUR, now: c.now });
  await store.flush();
  t.deepEqual(idsOf(store), [1], 'forwarded, and retained from the open');
  t.is(store.status().historyFrom, T0);
  c.t = T0 + HOUR;
  await store.flush();
  t.deepEqual(idsOf(store), []);
  await store.close();
  const check = new Database(path.join(dataDir, DB_FILE), { readonly: true });
  t.teardown(() => check.close());
  t.is(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.deepEqual(check.prepare("SELECT key, value FROM meta WHERE key IN ('retain_ms', 'history_from') ORDER BY key").all(), [
    { key: 'history_from', value: String(T0) },
    { key: 'retain_ms', value: String(HOUR) },
  ]);
});

test('newestEvents: the spot\'s newest, oldest first, from event_spots and the memory tier alike', async (t) => {
  const dataDir = tempDir(t);
  // indexFlushMs 0: what an append stored is in event_spots by the next commit.
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: HOUR, indexFlushMs: 0 });
  const a = ids(await store.append(events('a', 30)));
  await store.append(events('b', 5));
  const later = ids(await store.append(events('a', 5)));
  const all = [...a, ...later];
  t.deepEqual(store.newestEvents('a', 10).map((e) => e.id), all.slice(-10));
  t.deepEqual(store.newestEvents('a', 100).map((e) => e.id), all);
  t.deepEqual(store.newestEvents('c', 10), []);
  await store.close();
  // Default flush interval: just appended events are in the memory tier only.
  const again = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: HOUR });
  const newest = ids(await again.append(events('a', 3)));
  t.deepEqual(again.newestEvents('a', 5).map((e) => e.id), [...all.slice(-2), ...newest]);
  t.deepEqual(again.newestEvents('a', 2).map((e) => e.id), newest.slice(-2));
  t.like(again.newestEvents('a', 1)[0], { spot: 'a', resource: 'hit', action: 'create' });
});
