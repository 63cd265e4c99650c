// The per-spot index: recent ids in memory, older ones in event_spots, written spot by spot.
import test from 'ava';
import Database from 'better-sqlite3';
import type { Connection } from '../../gateway/src/store/connection.js';
import { INDEX_FLUSH_IDS, SpotIndex } from '../../gateway/src/store/spot-index.js';
import { events, ids, openTestStore, tempDir, waitFor } from './helpers.js';

/** The tables SpotIndex touches, in memory, behind the one method it uses. */
function tables(): { db: Database.Database; conn: Connection } {
  const db = new Database(':memory:');
  db.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE events (id INTEGER PRIMARY KEY, spot TEXT NOT NULL);
    CREATE TABLE event_spots (spot TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (spot, id)) WITHOUT ROWID;
  `);
  return { db, conn: { stmt: (sql: string) => db.prepare(sql) } as unknown as Connection };
}

function store(db: Database.Database, index: SpotIndex, rows: [number, string][]): void {
  for (const [id, spot] of rows) {
    db.prepare('INSERT INTO events (id, spot) VALUES (?, ?)').run(id, spot);
    index.added(spot, id);
  }
}

test('recent ids are read per spot in order, bounded by after and up-to', (t) => {
  const { db, conn } = tables();
  const index = new SpotIndex(conn);
  store(db, index, [[1, 'a'], [2, 'b'], [3, 'a'], [4, 'a'], [5, 'b']]);
  t.deepEqual(index.recentAfter('a', 0, 100, 10), [1, 3, 4]);
  t.deepEqual(index.recentAfter('a', 1, 100, 10), [3, 4]);
  t.deepEqual(index.recentAfter('a', 0, 3, 10), [1, 3]);
  t.deepEqual(index.recentAfter('a', 0, 100, 2), [1, 3]);
  t.is(index.recentCountAfter('b', 2), 1);
  t.deepEqual([...index.recentLast()], [['a', 4], ['b', 5]]);
});

test('a flush writes the ids that waited an interval, moves upto, and removes rows of events gone below the lowest id', (t) => {
  const { db, conn } = tables();
  const index = new SpotIndex(conn, 1000);
  store(db, index, [[1, 'a'], [2, 'b'], [3, 'a']]);
  t.true(index.flushDue(0), 'the first flush is due as soon as there are ids');
  index.applyFlush(index.flush(3, 1, 0));
  t.is(index.upto, 0, 'ids committed since the previous flush stay in memory');
  t.is(index.recentTotal, 3);
  store(db, index, [[4, 'b']]);
  t.false(index.flushDue(500), 'not again within the flush interval');
  t.true(index.flushDue(1000));
  index.applyFlush(index.flush(4, 1, 1000));
  t.is(index.upto, 3);
  t.deepEqual(index.recentAfter('b', 0, 100, 10), [4]);
  t.deepEqual(db.prepare('SELECT spot, id FROM event_spots ORDER BY spot, id').raw().all(), [['a', 1], ['a', 3], ['b', 2]]);
  // Events 1 and 2 were pruned: their rows go with the next flush.
  db.prepare('DELETE FROM events WHERE id < 3').run();
  index.goneBelow(3);
  index.applyFlush(index.flush(4, 3, 2000));
  t.deepEqual(db.prepare('SELECT spot, id FROM event_spots ORDER BY spot, id').raw().all(), [['a', 3], ['b', 4]]);
  t.is(db.prepare("SELECT value FROM meta WHERE key = 'spot_index_upto'").pluck().get(), '4');
});

test('rows of gone events are looked for only when the lowest stored id moved: during an outage a flush visits no spot', (t) => {
  const { db, conn } = tables();
  let visits = 0;
  const counting = {
    stmt: (sql: string) => {
      if (sql.startsWith('SELECT spot FROM event_spots')) visits++;
      return conn.stmt(sql);
    },
  } as unknown as Connection;
  const index = new SpotIndex(counting, 0);
  store(db, index, [[1, 'a'], [2, 'b']]);
  index.applyFlush(index.flush(2, 1, 0));
  t.is(visits, 1);
  // Nothing forwarded, nothing pruned: the lowest id stays, the flushes only write.
  for (let i = 3; i < 10; i++) {
    store(db, index, [[i, i % 2 ? 'a' : 'b']]);
    index.applyFlush(index.flush(i, 1, i));
  }
  t.is(visits, 1);
  t.is(db.prepare('SELECT count(*) FROM event_spots').pluck().get(), 9);
  db.prepare('DELETE FROM events WHERE id < 5').run();
  index.goneBelow(5);
  index.applyFlush(index.flush(9, 5, 20));
  t.is(visits, 2);
  t.deepEqual(db.prepare('SELECT id FROM event_spots ORDER BY id').pluck().all(), [5, 6, 7, 8, 9]);
});

test('a memory tier at its bound is written whole, young ids too', (t) => {
  const { db, conn } = tables();
  const index = new SpotIndex(conn, 1000);
  const rows: [number, string][] = Array.from({ length: INDEX_FLUSH_IDS }, (_, i) => [i + 1, `s${i % 7}`]);
  store(db, index, rows);
  t.true(index.flushDue(0));
  index.applyFlush(index.flush(INDEX_FLUSH_IDS, 1, 0));
  t.is(index.upto, INDEX_FLUSH_IDS);
  t.is(index.recentTotal, 0);
  t.is(db.prepare('SELECT count(*) FROM event_spots').pluck().get(), INDEX_FLUSH_IDS);
});

test('ids of events pruned before a flush leave the memory tier and are never written', (t) => {
  const { db, conn } = tables();
  const index = new SpotIndex(conn, 0);
  store(db, index, [[1, 'a'], [2, 'b'], [3, 'a'], [4, 'b']]);
  db.prepare('DELETE FROM events WHERE id < 4').run();
  index.goneBelow(4);
  t.is(index.recentTotal, 1);
  t.deepEqual(index.recentAfter('a', 0, 100, 10), []);
  index.applyFlush(index.flush(4, 4, 0));
  t.deepEqual(db.prepare('SELECT spot, id FROM event_spots').raw().all(), [['b', 4]]);
});

test('load rebuilds the memory tier from the events above upto', (t) => {
  const { db, conn } = tables();
  const first = new SpotIndex(conn, 0);
  store(db, first, [[1, 'a'], [2, 'b']]);
  first.applyFlush(first.flush(2, 1, 0));
  store(db, first, [[3, 'a'], [4, 'b'], [5, 'a']]);
  const again = new SpotIndex(conn);
  again.load();
  t.is(again.upto, 2);
  t.is(again.recentTotal, 3);
  t.deepEqual(again.recentAfter('a', 0, 100, 10), [3, 5]);
  const opened = performance.now();
  t.false(again.flushDue(opened), 'no flush in the first commits after opening');
  t.true(again.flushDue(opened + 1000));
  again.applyFlush(again.flush(5, 1, opened + 1000));
  t.is(again.upto, 5, 'the ids found at open are written by the first flush');
  t.is(again.recentTotal, 0);
});

/** Frames in the WAL, read by a second connection that checkpoints it fully first. */
function walFrames(reader: Database.Database): number {
  const [row] = reader.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
  return row!.log;
}

test('a commit with one event from each of 100 spots writes a few pages, not one index page per spot', async (t) => {
  const s = openTestStore(t, { dataDir: tempDir(t), commitIntervalMs: 5 });
  const spots = Array.from({ length: 100 }, (_, i) => `spot-${1000 + i}`);
  let highest = 0;
  const round = async (): Promise<void> => {
    for (const id of ids((await Promise.all(spots.map((spot) => s.append(events(spot, 1))))).flat())) highest = Math.max(highest, id);
  };
  // Enough rounds that every spot's ids span index pages of their own, as after minutes of traffic.
  for (let i = 0; i < 60; i++) await round();
  const reader = new Database(s.dbPath);
  t.teardown(() => reader.close());
  // The index flush of the rounds above, in a commit of its own once its interval is up.
  const indexedUpTo = (): number => Number((reader.prepare("SELECT value FROM meta WHERE key = 'spot_index_upto'").get() as { value: string }).value);
  await waitFor(
    async () => {
      await s.flush();
      return indexedUpTo() >= highest;
    },
    10_000,
    () => `the index flush up to id ${highest} (event_spots up to ${indexedUpTo()})`,
  );
  walFrames(reader); // everything so far is checkpointed: the next commit starts the WAL again
  const before = s.status().commits;
  await round();
  const frames = walFrames(reader);
  t.is(s.status().commits - before, 1, 'the round was one commit');
  t.log(`one commit of 100 events from 100 spots: ${frames} WAL frames`);
  t.true(frames < 20, `${frames} pages written for one commit`);
});
