import test from 'ava';
import { openTestStore, tempDir } from './helpers.js';

const configUpdate = { resource: 'config', action: 'update', data: '{"rfid_power_dbm":20}', source: 'api' };

test('commands: queued in order, delivered once, with timestamps', async (t) => {
  let clock = 1_000_000;
  const store = openTestStore(t, { dataDir: tempDir(t), now: () => clock });
  const c1 = await store.commands.enqueue('s1', configUpdate);
  const c2 = await store.commands.enqueue('s1', { ...configUpdate, data: '{"rfid_power_dbm":21}', source: 'mqtt' });
  await store.commands.enqueue('s2', configUpdate);
  t.is(c1.state, 'queued');
  t.is(c1.timeQueued, 1_000_000);
  t.is(c1.timeExpires, 1_000_000 + 3_600_000, 'default TTL is one hour');
  t.deepEqual(store.commands.pendingFor('s1', clock).map((c) => c.id), [c1.id, c2.id]);
  clock += 10;
  t.is(store.commands.markDelivered([c1.id, c2.id], clock), 2);
  t.is(store.commands.markDelivered([c1.id], clock + 5), 0, 'a delivered command is not delivered again');
  t.deepEqual(store.commands.pendingFor('s1', clock), []);
  const delivered = store.commands.get(c1.id)!;
  t.is(delivered.state, 'delivered');
  t.is(delivered.timeDelivered, 1_000_010);
  t.deepEqual(store.commands.list('s1', { limit: 10 }).map((c) => c.id), [c2.id, c1.id], 'list is newest first');
});

test('commands past their TTL expire and are no longer pending', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), now: () => 5000 });
  const short = await store.commands.enqueue('s1', { ...configUpdate, ttlMs: 100 });
  const long = await store.commands.enqueue('s1', configUpdate);
  t.deepEqual(store.commands.pendingFor('s1', 5099).map((c) => c.id), [short.id, long.id]);
  t.deepEqual(store.commands.pendingFor('s1', 5100).map((c) => c.id), [long.id], 'not handed out once due');
  t.is(store.commands.expireDue(5100), 1);
  t.is(store.commands.get(short.id)!.state, 'expired');
  t.is(store.commands.markDelivered([short.id], 5200), 0, 'an expired command cannot be delivered');
});

test('commands can fail, and a failed one is not pending', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), now: () => 1 });
  const c = await store.commands.enqueue('s1', configUpdate);
  t.deepEqual(store.commands.noteCutReply([c.id], 7, 1), [c.id]);
  const failed = store.commands.get(c.id)!;
  t.is(failed.state, 'failed');
  t.is(failed.timeFailed, 7);
  t.deepEqual(store.commands.pendingFor('s1', 2), []);
});

test('a queued command is committed as soon as enqueue resolves', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir });
  const c = await store.commands.enqueue('s1', configUpdate);
  const Database = (await import('better-sqlite3')).default;
  const other = new Database(store.dbPath, { readonly: true });
  t.teardown(() => other.close());
  t.deepEqual(other.prepare('SELECT id, state, data FROM commands').all(), [{ id: c.id, state: 'queued', data: configUpdate.data }]);
});

test('a non-positive TTL is refused with the spot named', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t) });
  await t.throwsAsync(store.commands.enqueue('s1', { ...configUpdate, ttlMs: 0 }), { message: /spot s1: ttlMs must be positive/ });
});

test('finished commands are forgotten a week after they expired, queued ones never', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), now: () => 0 });
  const done = await store.commands.enqueue('s1', { ...configUpdate, ttlMs: 1000 });
  const waiting = await store.commands.enqueue('s1', { ...configUpdate, ttlMs: 30 * 24 * 3_600_000 });
  store.commands.markDelivered([done.id], 10);
  const week = 7 * 24 * 3_600_000;
  store.commands.expireDue(1000 + week - 1);
  t.truthy(store.commands.get(done.id), 'kept for a week');
  store.commands.expireDue(1000 + week);
  t.is(store.commands.get(done.id), null);
  t.is(store.commands.get(waiting.id)?.state, 'queued');
});

test('a page of the listing and the commands for a reply stop before the command that would pass the byte budget, and take at least one', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), now: () => 1 });
  const sized = (n: number) => ({ ...configUpdate, data: JSON.stringify({ pad: 'x'.repeat(n) }) });
  // JSON message ["config","update",{"pad":"x..."}]: 20 bytes + the data.
  const ids = (await Promise.all([100, 100, 100].map((n) => store.commands.enqueue('s1', sized(n - 30))))).map((c) => c.id);
  t.deepEqual(store.commands.list('s1', { limit: 10, after: 0 }).map((c) => c.size), [100, 100, 100]);
  t.deepEqual(store.commands.list('s1', { limit: 10, after: 0, maxBytes: 250 }).map((c) => c.id), ids.slice(0, 2));
  t.deepEqual(store.commands.list('s1', { limit: 10, maxBytes: 50 }).map((c) => c.id), [ids[2]], 'newest first, at least one');
  t.deepEqual(store.commands.pendingFor('s1', 1, 200).map((c) => c.id), ids.slice(0, 2));
  t.deepEqual(store.commands.queuedTotals('s1', 1), { count: 3, bytes: 300 });
});

test('marks on a closed store fail with StoreUnavailableError, the error every caller handles, not a TypeError', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), now: () => 1 });
  const c = await store.commands.enqueue('s1', configUpdate);
  await store.close();
  for (const [what, mark] of [
    ['markDelivered', () => store.commands.markDelivered([c.id], 2)],
    ['markFailed', () => store.commands.markFailed([c.id], 2)],
    ['noteCutReply', () => store.commands.noteCutReply([c.id], 2, 3)],
  ] as const) {
    const err = t.throws(mark, undefined, what);
    t.is(err.name, 'StoreUnavailableError', `${what}: ${String(err)}`);
  }
});
