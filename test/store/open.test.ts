import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { migrate, migrations, SCHEMA_VERSION } from '../../gateway/src/store/migrations.js';
import { openStore } from '../../gateway/src/store/index.js';
import { DB_FILE } from '../../gateway/src/store/open-database.js';
import { event, ids, openTestStore, recordingLogger, tempDir, waitFor } from './helpers.js';

test('a new database gets an instance id that stays with the file', async (t) => {
  const dataDir = tempDir(t);
  const first = openTestStore(t, { dataDir, randomUUID: () => 'aaaaaaaa-0000-4000-8000-000000000001' });
  t.is(first.instanceId, 'aaaaaaaa-0000-4000-8000-000000000001');
  await first.close();
  const second = openTestStore(t, { dataDir, randomUUID: () => 'bbbbbbbb-0000-4000-8000-000000000002' });
  t.is(second.instanceId, 'aaaaaaaa-0000-4000-8000-000000000001');
});

test('event ids are never reused, even after every event was pruned', async (t) => {
  const dataDir = tempDir(t);
  const first = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  const [o] = await first.append([event('a')]);
  first.advanceCursor('mqtt', 'a', (o as { id: number }).id);
  await first.flush();
  await first.flush();
  t.is(first.status().events, 0);
  await first.close();
  const second = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  t.deepEqual(ids(await second.append([event('a')])), [2]);
});

test('a garbage database file is moved aside with a loud log and a fresh one works', async (t) => {
  const dataDir = tempDir(t);
  const garbage = Buffer.from('this is not a database '.repeat(500));
  fs.writeFileSync(path.join(dataDir, DB_FILE), garbage);
  fs.writeFileSync(path.join(dataDir, `${DB_FILE}-wal`), 'junk');
  const logger = recordingLogger();
  const store = openTestStore(t, { dataDir, logger, now: () => Date.parse('2026-11-26T10:00:00.000Z') });
  const aside = path.join(dataDir, `${DB_FILE}.corrupt-2026-11-26T10:00:00.000Z`);
  t.deepEqual(fs.readFileSync(aside), garbage, 'the old file is kept');
  t.is(fs.readFileSync(`${aside}-wal`, 'utf8'), 'junk', 'its WAL is kept too');
  const errors = logger.lines.filter((l) => l.level === 'error');
  t.is(errors.length, 1);
  t.regex(errors[0]!.msg ?? '', /cannot be opened .*moved aside to .*corrupt-2026-11-26T10:00:00.000Z/);
  t.deepEqual(ids(await store.append([event('a')])), [1]);
});

test('a database from a newer gateway is moved aside, not touched', async (t) => {
  const dataDir = tempDir(t);
  const db = new Database(path.join(dataDir, DB_FILE));
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();
  const logger = recordingLogger();
  const store = openTestStore(t, { dataDir, logger });
  t.regex(logger.lines.find((l) => l.level === 'error')?.msg ?? '', /newer than this gateway knows/);
  t.deepEqual(ids(await store.append([event('a')])), [1]);
  t.is(fs.readdirSync(dataDir).filter((f) => f.includes('.corrupt-')).length, 1);
});

test('a database at an older schema version is migrated and keeps its events', async (t) => {
  const dataDir = tempDir(t);
  const db = new Database(path.join(dataDir, DB_FILE));
  db.pragma('journal_mode = WAL');
  migrate(db, migrations.slice(0, 1));
  db.prepare("INSERT INTO meta (key, value) VALUES ('instance_id', 'old-instance')").run();
  db.prepare(
    "INSERT INTO events (spot, resource, action, data, pb, encoding, time_received, boot, seq, size) VALUES ('a', 'hit', 'create', '{}', NULL, 'json', 1, NULL, NULL, 2)",
  ).run();
  t.is(db.pragma('user_version', { simple: true }), 1);
  db.close();

  const store = openTestStore(t, { dataDir });
  t.is(store.instanceId, 'old-instance');
  t.deepEqual(store.listEvents({ limit: 10 }).map((e) => e.id), [1]);
  t.is((await store.commands.enqueue('a', { resource: 'config', action: 'update', data: '{}', source: 'api' })).id, 1);
  await store.close();
  const check = new Database(path.join(dataDir, DB_FILE), { readonly: true });
  t.teardown(() => check.close());
  t.is(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
});

test('schema 4: commands queued under schema 3 keep their state and start with no cut-off replies', async (t) => {
  const dataDir = tempDir(t);
  const db = new Database(path.join(dataDir, DB_FILE));
  db.pragma('journal_mode = WAL');
  migrate(db, migrations.slice(0, 3));
  db.prepare(
    "INSERT INTO commands (spot, resource, action, data, source, state, time_queued, time_expires) VALUES ('a', 'config', 'update', '{}', 'api', 'queued', 1, 9999999999999)",
  ).run();
  db.close();

  const store = openTestStore(t, { dataDir });
  const [command] = store.commands.pendingFor('a', 2);
  t.is(command!.state, 'queued');
  t.is(command!.cutReplies, 0);
  t.deepEqual(store.commands.noteCutReply([command!.id], 3, 1), [command!.id]);
  t.is(store.commands.get(command!.id)!.state, 'failed');
  t.is(SCHEMA_VERSION, 6);
});

test('the store opens in WAL mode with incremental auto-vacuum and the chosen durability', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), durability: 'normal' });
  await store.append([event('a')]);
  const db = new Database(store.dbPath, { readonly: true });
  t.teardown(() => db.close());
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  t.is(db.pragma('auto_vacuum', { simple: true }), 2);
});

test('after close, appends reject with code closed', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t) });
  await store.close();
  await t.throwsAsync(store.append([event('a')]), { message: /closed/, instanceOf: Error });
  const err = await store.append([event('a')]).catch((e: unknown) => e);
  t.is((err as { code?: string }).code, 'closed');
});

test('close writes what is still queued', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, commitIntervalMs: 1000 });
  const pending = store.append([event('a')]);
  await store.close();
  t.deepEqual(ids(await pending), [1]);
  const again = openTestStore(t, { dataDir });
  t.is(again.status().events, 1);
});

test('the WAL is checkpointed and truncated once the store is idle', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t) });
  for (let i = 0; i < 20; i++) await store.append(Array.from({ length: 100 }, () => event('a')));
  const walSize = (): number => (fs.existsSync(`${store.dbPath}-wal`) ? fs.statSync(`${store.dbPath}-wal`).size : 0);
  t.true(walSize() > 0);
  await waitFor(() => walSize() === 0, 5000, () => `the idle checkpoint to truncate the WAL (${walSize()} bytes)`);
  t.is(store.status().events, 2000);
});

test('a size cap below 256 KiB is refused with the reason', (t) => {
  t.throws(() => openStore({ dataDir: tempDir(t), maxBytes: 1000 }), { message: /below the minimum of 256 KiB/ });
});
