import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { DB_FILE } from '../../gateway/src/store/open-database.js';
import { StoreUnavailableError } from '../../gateway/src/store/types.js';
import { events, ids, openTestStore, recordingLogger, tempDir, waitFor } from './helpers.js';

/** Overwrites every page but the first (the header stays valid, the tables do not). */
function damagePages(file: string): void {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(size - 4096, 0x55), 0, size - 4096, 4096);
  fs.closeSync(fd);
}

/** Overwrites the root pages of the event log's tables; the schema stays readable. */
function damageEventTables(file: string): void {
  const db = new Database(file, { readonly: true });
  const roots = db
    .prepare("SELECT rootpage FROM sqlite_schema WHERE name IN ('events', 'events_spot_id', 'spot_numbering')")
    .all() as { rootpage: number }[];
  db.close();
  const fd = fs.openSync(file, 'r+');
  for (const r of roots) fs.writeSync(fd, Buffer.alloc(4096, 0x55), 0, 4096, (r.rootpage - 1) * 4096);
  fs.closeSync(fd);
}

test('a file with a valid header and damaged tables is moved aside at start', async (t) => {
  const dataDir = tempDir(t);
  const first = openTestStore(t, { dataDir });
  await first.append(events('a', 500));
  await first.close();
  damagePages(path.join(dataDir, DB_FILE));
  const logger = recordingLogger();
  const store = openTestStore(t, { dataDir, logger });
  t.regex(logger.lines.find((l) => l.level === 'error')?.msg ?? '', /cannot be opened \(database disk image is malformed\)/);
  t.is(fs.readdirSync(dataDir).filter((f) => /\.corrupt-.*Z$/.test(f)).length, 1, 'the damaged file is kept');
  t.deepEqual(ids(await store.append(events('a', 1))), [1]);
});

test('damage found while running: the file goes aside, the store continues with the same instance id and higher ids', async (t) => {
  const dataDir = tempDir(t);
  const logger = recordingLogger();
  // With retain: the history kept before the damage is in the file moved aside, which the fresh file says.
  const store = openTestStore(t, { dataDir, logger, upstreams: ['mqtt'], retainMs: 3_600_000 });
  const before = ids(await store.append(events('a', 2000)));
  store.advanceCursor('mqtt', 'a', 1500);
  store.spots.recordPost('a', { firmwareVersion: '1.0', events: 2000, rejected: 0, duplicates: 0, now: 5 });
  await store.flush();
  // Let the idle checkpoint move everything into the main file, then damage it under the open connection.
  await waitFor(() => !fs.existsSync(`${store.dbPath}-wal`) || fs.statSync(`${store.dbPath}-wal`).size === 0, 5000, 'idle checkpoint');
  const damagedAt = Date.now();
  damageEventTables(store.dbPath);
  // A second connection's write makes the store's connection drop its page cache and see the damage.
  const other = new Database(store.dbPath);
  other.exec("INSERT INTO meta (key, value) VALUES ('poke', '1')");
  other.close();

  const err = await store.append(events('a', 1)).catch((e: unknown) => e);
  t.true(err instanceof StoreUnavailableError);
  t.regex((err as Error).message, /SQLITE_CORRUPT/);

  const after = ids(await store.append(events('a', 3)));
  t.true(after[0]! > before.at(-1)!, `new ids ${after.join(',')} continue after ${before.at(-1)}`);
  t.regex(logger.lines.find((l) => /is damaged/.test(l.msg ?? ''))?.msg ?? '', /moved aside to .*corrupt-.* continuing on a fresh file/);
  t.is(fs.readdirSync(dataDir).filter((f) => /\.corrupt-.*Z$/.test(f)).length, 1, 'the damaged file is kept');
  const reader = new Database(store.dbPath, { readonly: true });
  t.is(reader.prepare("SELECT value FROM meta WHERE key = 'forwarding_unsynced'").pluck().get(), '0', 'the fresh file knows how this store forwards');
  t.is(reader.prepare("SELECT value FROM meta WHERE key = 'retain_ms'").pluck().get(), '3600000');
  const historyFrom = Number(reader.prepare("SELECT value FROM meta WHERE key = 'history_from'").pluck().get());
  t.true(historyFrom >= damagedAt, 'the fresh file holds no history from before the damage');
  t.is(store.status().historyFrom, historyFrom);
  reader.close();
  const instanceId = store.instanceId;
  await store.close();

  const reopened = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  t.is(reopened.instanceId, instanceId, 'stable event ids keep their prefix');
  t.deepEqual(reopened.listEvents({ limit: 10 }).map((e) => e.id), after);
  t.is(reopened.cursor('mqtt', 'a'), 1500, 'cursors are written again');
  t.is(reopened.spots.get('a')?.events, 2000, 'the registry is written again');
});

test('a database file replaced by another while running is moved aside and the data written back', async (t) => {
  const dataDir = tempDir(t);
  const logger = recordingLogger();
  const store = openTestStore(t, { dataDir, logger, upstreams: ['mqtt'] });
  const before = ids(await store.append(events('a', 1000)));
  store.advanceCursor('mqtt', 'a', 10);
  const garbage = Buffer.from('not a database '.repeat(300));
  fs.writeFileSync(path.join(dataDir, 'incoming'), garbage);
  fs.renameSync(path.join(dataDir, 'incoming'), store.dbPath);
  await waitFor(() => logger.lines.some((l) => /was replaced by another file/.test(l.msg ?? '')), 5000, 'the replacement to be noticed');
  const after = ids(await store.append(events('a', 5)));
  const foreign = fs.readdirSync(dataDir).filter((f) => f.includes('.foreign-'));
  t.is(foreign.length, 1);
  t.deepEqual(fs.readFileSync(path.join(dataDir, foreign[0]!)), garbage, 'the other file is kept as it was');
  await store.close();
  const reopened = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  // Events 1..10 are forwarded and may have been pruned; everything above must be there.
  t.deepEqual(
    reopened.listEvents({ limit: 10_000 }).map((e) => e.id).filter((id) => id > 10),
    [...before.filter((id) => id > 10), ...after],
  );
  t.is(reopened.cursor('mqtt', 'a'), 10);
});

test('a data dir deleted while running is recreated with the data written back', async (t) => {
  const dataDir = tempDir(t);
  const logger = recordingLogger();
  const store = openTestStore(t, { dataDir, logger });
  const before = ids(await store.append(events('a', 500)));
  fs.rmSync(dataDir, { recursive: true, force: true });
  await waitFor(() => logger.lines.some((l) => /was deleted while running/.test(l.msg ?? '')), 5000, 'the deletion to be noticed');
  const after = ids(await store.append(events('a', 5)));
  await store.close();
  const reopened = openTestStore(t, { dataDir });
  t.deepEqual(reopened.listEvents({ limit: 10_000 }).map((e) => e.id), [...before, ...after]);
});
