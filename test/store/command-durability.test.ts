// Command writes ride the store's WAL fsync (docs/storage.md, "Commands and the disk"): a command is
// acknowledged, and handed to a spot, only once durable; a mark is durable before anything acknowledged
// after it; no command write waits for the disk on the event loop. Power cuts modelled on the real files
// (disk-image.ts); SIGKILL on a real child process.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { StoreUnavailableError, type Command, type Store } from '../../gateway/src/store/index.js';
import { can, probePrivileges } from '../helpers/privileges.js';
import { DiskModel } from './disk-image.js';
import { event, openTestStore, tempDir, waitFor } from './helpers.js';

const { canChattr } = probePrivileges();
const here = path.dirname(fileURLToPath(import.meta.url));
const configUpdate = { resource: 'config', action: 'update', data: '{"rfid_power_dbm":20}', source: 'api' };

/** Resolved or rejected so far (a promise held by a held fsync stays 'pending'). */
function track<T>(p: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const s: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  p.then(
    (value) => Object.assign(s, { state: 'resolved', value }),
    (error: unknown) => Object.assign(s, { state: 'rejected', error }),
  );
  return s;
}

/** Lets every callback already due run (promise reactions, immediates). */
const turns = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** Opens what survived the power cut and reads the command back. */
function afterPowerCut(t: Parameters<typeof tempDir>[0], disk: DiskModel, id: number): Command | null {
  const store = openTestStore(t, { dataDir: disk.cutPower(path.join(tempDir(t, 'spot-powercut-'), 'data')) });
  return store.commands.get(id);
}

async function heldStore(t: Parameters<typeof tempDir>[0]): Promise<{ store: Store; disk: DiskModel }> {
  const dataDir = tempDir(t);
  const disk = new DiskModel(dataDir);
  disk.install(t);
  const store = openTestStore(t, { dataDir });
  await store.flush();
  return { store, disk };
}

test.serial('a queued command is acknowledged and handed to its spot only once an fsync after its commit finished; a power cut before that loses nothing acknowledged', async (t) => {
  const { store, disk } = await heldStore(t);
  const syncBefore = disk.syncWalFsyncs;
  disk.hold();
  const queued = track(store.commands.enqueue('s1', configUpdate));
  await waitFor(() => (disk.heldCount === 1 ? true : undefined), 5000, 'the fsync covering the command to start');
  await turns();
  t.is(queued.state, 'pending', 'not acknowledged while its fsync is out');
  t.is(disk.syncWalFsyncs, syncBefore, 'the event loop did not wait for the disk');
  t.deepEqual(store.commands.pendingFor('s1', Date.now()), [], 'no spot gets it before it is durable');
  t.deepEqual(store.commands.queuedTotals('s1', Date.now()).count, 1, 'the queue bound counts it from its commit');
  const id = store.commands.list('s1', { limit: 10 })[0]!.id;
  t.is(afterPowerCut(t, disk, id), null, 'a power cut now: gone, and nobody was told it was queued');

  disk.releaseAll();
  await waitFor(() => (queued.state !== 'pending' ? true : undefined), 5000, 'the command to be acknowledged');
  t.is(queued.state, 'resolved');
  t.is(queued.value!.id, id);
  t.deepEqual(store.commands.pendingFor('s1', Date.now()).map((c) => c.id), [id], 'handed out once durable');
  t.is(afterPowerCut(t, disk, id)?.state, 'queued', 'a power cut after the acknowledgement keeps it');
});

test.serial('a delivered mark returns without waiting for the disk and is durable before the next acknowledgement', async (t) => {
  const { store, disk } = await heldStore(t);
  const { id } = await store.commands.enqueue('s1', configUpdate);
  const syncBefore = disk.syncWalFsyncs;
  disk.hold();
  t.is(store.commands.markDelivered([id], 10), 1, 'marked at its commit');
  t.is(disk.syncWalFsyncs, syncBefore, 'the event loop did not wait for the disk');
  await waitFor(() => (disk.heldCount === 1 ? true : undefined), 5000, 'the fsync of the mark to start');
  t.is(afterPowerCut(t, disk, id)?.state, 'queued', 'a power cut before its fsync: the command goes out again (the documented window)');

  // Events of the spot's next post, committed after the mark: their acknowledgement covers the mark.
  const appended = track(store.append([event('s1')]));
  await turns();
  t.is(appended.state, 'pending');
  disk.release();
  await waitFor(() => (disk.heldCount === 1 ? true : undefined), 5000, 'the fsync of the append to start');
  t.is(appended.state, 'pending', 'its own fsync is held');
  disk.releaseAll();
  await waitFor(() => (appended.state !== 'pending' ? true : undefined), 5000, 'the append to be acknowledged');
  t.is(appended.state, 'resolved');
  t.is(afterPowerCut(t, disk, id)?.state, 'delivered', 'once anything later is acknowledged, the mark is on disk');
});

test.serial('the other marks (cut reply, failed, expired) commit without waiting for the disk either', async (t) => {
  const { store, disk } = await heldStore(t);
  const [a, b, c] = await Promise.all([1, 2, 3].map((n) => store.commands.enqueue('s1', { ...configUpdate, data: `{"n":${n}}`, ttlMs: 1000 * n })));
  const syncBefore = disk.syncWalFsyncs;
  disk.hold();
  const now = Date.now();
  t.deepEqual(store.commands.noteCutReply([a!.id], now, 1), [a!.id]);
  t.is(store.commands.markFailed([b!.id], now), 1);
  t.is(store.commands.expireDue(c!.timeExpires), 1);
  t.is(disk.syncWalFsyncs, syncBefore, 'the event loop did not wait for the disk');
  t.deepEqual([a!.id, b!.id, c!.id].map((id) => store.commands.get(id)?.state), ['failed', 'failed', 'expired']);
  await waitFor(() => (disk.heldCount >= 1 ? true : undefined), 5000, 'an fsync to start');
  disk.releaseAll();
  await store.flush();
  t.deepEqual([a!.id, b!.id, c!.id].map((id) => afterPowerCut(t, disk, id)?.state), ['failed', 'failed', 'expired']);
});

test.serial('a command whose fsync failed is refused (503) and withdrawn: no spot gets it, and the caller retries', async (t) => {
  const { store, disk } = await heldStore(t);
  disk.hold();
  const queued = track(store.commands.enqueue('s1', configUpdate));
  await waitFor(() => (disk.heldCount === 1 ? true : undefined), 5000, 'the fsync covering the command to start');
  disk.fail();
  await waitFor(() => (queued.state !== 'pending' ? true : undefined), 5000, 'the command to be refused');
  t.is(queued.state, 'rejected');
  t.true(queued.error instanceof StoreUnavailableError, String(queued.error));
  t.is((queued.error as StoreUnavailableError).code, 'io');
  const [withdrawn] = store.commands.list('s1', { limit: 10 });
  t.is(withdrawn?.state, 'failed', 'withdrawn: the retry is the only copy that goes out');
  t.deepEqual(store.commands.pendingFor('s1', Date.now()), []);
  disk.releaseAll();

  const retry = track(store.commands.enqueue('s1', configUpdate));
  await waitFor(() => (retry.state !== 'pending' ? true : undefined), 5000, 'the retry to be acknowledged');
  t.is(retry.state, 'resolved');
  t.deepEqual(store.commands.pendingFor('s1', Date.now()).map((c) => c.id), [retry.value!.id]);
});

(canChattr ? test.serial : test.serial.skip)('a command whose fsync failed and that cannot be withdrawn either stays withheld from its spot', async (t) => {
  const { store, disk } = await heldStore(t);
  const files = () => [path.dirname(store.dbPath), store.dbPath, `${store.dbPath}-wal`].filter((f) => fs.existsSync(f));
  t.teardown(() => can('chattr', ['-i', ...files()]));
  disk.hold();
  const queued = track(store.commands.enqueue('s1', configUpdate));
  await waitFor(() => (disk.heldCount === 1 ? true : undefined), 5000, 'the fsync covering the command to start');
  execFileSync('chattr', ['+i', ...files()]);
  disk.fail();
  await waitFor(() => (queued.state !== 'pending' ? true : undefined), 5000, 'the command to be refused');
  t.is(queued.state, 'rejected');
  execFileSync('chattr', ['-i', ...files()]);
  disk.releaseAll();
  const [kept] = store.commands.list('s1', { limit: 10 });
  t.is(kept?.state, 'queued', 'the withdrawal could not be written');
  t.deepEqual(store.commands.pendingFor('s1', Date.now()), [], 'and no spot gets it from this gateway');
});

test('with durability normal a command is acknowledged at its commit', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), durability: 'normal' });
  const queued = await store.commands.enqueue('s1', configUpdate);
  t.deepEqual(store.commands.pendingFor('s1', Date.now()).map((c) => c.id), [queued.id]);
});

test('a command write on a closed store is refused with the store named', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t) });
  await store.close();
  await t.throwsAsync(store.commands.enqueue('s1', configUpdate), { instanceOf: StoreUnavailableError, message: /closed/ });
});

test('acknowledged commands and delivered marks survive SIGKILL', async (t) => {
  const dataDir = tempDir(t);
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'queue-and-ack.ts'), dataDir], {
    cwd: path.resolve(here, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('close', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child printed too few lines in 30 s; stderr: ${err}`)), 30_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > 1000) {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        resolve();
      }
    });
    proc.on('close', () => reject(new Error(`child exited early; stderr: ${err}`)));
  });
  t.is(await exited, 'SIGKILL');
  const lines = out.split('\n').filter((l) => /^(queued|delivered) \d+$/.test(l));
  const queued = lines.filter((l) => l.startsWith('queued ')).map((l) => Number(l.slice(7)));
  const delivered = new Set(lines.filter((l) => l.startsWith('delivered ')).map((l) => Number(l.slice(10))));
  t.log(`${queued.length} commands acknowledged, ${delivered.size} marked delivered before SIGKILL`);
  t.true(queued.length >= 300);

  const store = openTestStore(t, { dataDir });
  const wrong = queued.filter((id) => store.commands.get(id)?.state !== (delivered.has(id) ? 'delivered' : 'queued'));
  t.deepEqual(wrong.slice(0, 5), [], `${wrong.length} acknowledged commands missing or in the wrong state after restart`);
});
