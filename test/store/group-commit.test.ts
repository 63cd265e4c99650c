import test from 'ava';
import Database from 'better-sqlite3';
import { event, events, ids, openTestStore, tempDir } from './helpers.js';

test('concurrent appends from many callers share few transactions', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), commitIntervalMs: 5 });
  const before = store.status().commits;
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append(events(`spot-${i % 20}`, 5))));
  const commits = store.status().commits - before;
  t.log(`200 appends of 5 events -> ${commits} commit(s)`);
  t.true(commits >= 1 && commits <= 3, `expected 1..3 commits, got ${commits}`);
  const all = results.flatMap((r) => ids(r));
  t.is(all.length, 1000);
  t.is(new Set(all).size, 1000, 'every event got its own id');
  t.deepEqual([...all].sort((a, b) => a - b), all, 'ids follow the order of the appends');
  t.is(store.status().events, 1000);
});

test('an append resolves only once its events are committed (visible to another connection)', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), commitIntervalMs: 20 });
  const reader = new Database(store.dbPath, { readonly: true });
  t.teardown(() => reader.close());
  const count = (): number => (reader.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  const seen: number[] = [];
  const appended = store.append([event('s1'), event('s1')]).then((outcomes) => {
    seen.push(count());
    return outcomes;
  });
  t.is(count(), 0, 'nothing is committed while the group-commit window is open');
  const outcomes = await appended;
  t.deepEqual(seen, [2]);
  t.deepEqual(ids(outcomes), [1, 2]);
});

test('appending nothing resolves at once with no outcomes', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t) });
  t.deepEqual(await store.append([]), []);
});

test('stored events come back as they were appended, pb bytes included', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'] });
  const pb = new Uint8Array([0x0a, 0x03, 0x41, 0x42, 0x43]);
  const e1 = event('s9', { encoding: 'pb', pb, boot: 3, seq: 10 });
  const e2 = event('s9');
  const [o1, o2] = await store.append([e1, e2]);
  const read = store.readSpot('mqtt', 's9', 0, 10);
  t.deepEqual(
    read.map((e) => ({ ...e, pb: e.pb ? [...e.pb] : null })),
    [
      { ...e1, pb: [...pb], id: (o1 as { id: number }).id },
      { ...e2, id: (o2 as { id: number }).id },
    ],
  );
});
