// buffer.forward: events handed to the upstreams at COMMIT (after-commit) or after the WAL fsync.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { FORWARD_ID_MARGIN, ForwardGate } from '../../gateway/src/store/forward-gate.js';
import type { AppendOutcome, Store } from '../../gateway/src/store/types.js';
import { events, ids, openTestStore, recordingLogger, tempDir, waitFor } from './helpers.js';

test('the gate hands over at commit only in after-commit mode, in order, and within the id margin', (t) => {
  const sync = new ForwardGate(false, 0, false);
  t.false(sync.atCommit(5), 'after-sync: always at the fsync');
  const gate = new ForwardGate(true, 100, true);
  t.true(gate.atCommit(200));
  t.false(gate.atCommit(100 + FORWARD_ID_MARGIN + 1), 'beyond the margin: waits for its fsync');
  t.false(gate.atCommit(100 + FORWARD_ID_MARGIN + 2), 'and every later commit waits behind it (order per spot)');
  gate.synced(200, false, true);
  gate.synced(100 + FORWARD_ID_MARGIN + 1, true, true);
  t.false(gate.atCommit(100 + FORWARD_ID_MARGIN + 3), 'one commit still waits for its fsync, so this one waits too');
  gate.synced(100 + FORWARD_ID_MARGIN + 2, true, true);
  gate.synced(100 + FORWARD_ID_MARGIN + 3, true, true);
  t.true(gate.atCommit(100 + FORWARD_ID_MARGIN + 4), 'none waits: at commit again');
  const failing = new ForwardGate(true, 0, true);
  t.false(failing.atCommit(FORWARD_ID_MARGIN + 1));
  failing.synced(FORWARD_ID_MARGIN + 1, true, false);
  t.false(failing.atCommit(FORWARD_ID_MARGIN + 2), 'a failed fsync made nothing durable');
});

/** Appends one event and records, in order, when the upstream listener saw it and when the append settled. */
async function order(store: Store): Promise<string[]> {
  const seen: string[] = [];
  store.onAppended(() => seen.push('upstream'));
  await new Promise<void>((resolve, reject) =>
    store.appendWith(events('s1', 1), (err: Error | null, _outcomes: AppendOutcome[]) => {
      if (err) return reject(err);
      seen.push('acknowledged');
      resolve();
    }),
  );
  await waitFor(() => seen.length === 2, 5000, () => `the upstream listener and the acknowledgement (seen: ${seen.join(', ') || 'nothing'})`);
  return seen;
}

test('after-sync: the upstreams get a commit once it is on disk, after the spots are answered', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'], durability: 'full' });
  t.deepEqual(await order(store), ['acknowledged', 'upstream']);
});

test('after-commit: the upstreams get a commit before its fsync; the spots are still answered after it', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'], durability: 'full', forwardAfterCommit: true });
  t.deepEqual(await order(store), ['upstream', 'acknowledged']);
  t.deepEqual(
    store.readSpot('mqtt', 's1', 0, 10).map((e) => e.spot),
    ['s1'],
    'and reads see it',
  );
});

/** The files as a power loss or SIGKILL leaves them: copied while the store is open (WAL included). */
function crashCopy(t: import('ava').ExecutionContext, dataDir: string): string {
  const copy = tempDir(t);
  for (const f of ['spot-gateway.db', 'spot-gateway.db-wal']) {
    if (fs.existsSync(path.join(dataDir, f))) fs.copyFileSync(path.join(dataDir, f), path.join(copy, f));
  }
  return copy;
}

test('after an unclean stop in after-commit mode, event ids continue past the margin; a clean stop keeps them contiguous', async (t) => {
  const dataDir = tempDir(t);
  const first = openTestStore(t, { dataDir, forwardAfterCommit: true });
  t.deepEqual(ids(await first.append(events('s1', 3))), [1, 2, 3]);
  const crashed = crashCopy(t, dataDir);
  await first.close();
  const clean = openTestStore(t, { dataDir, forwardAfterCommit: true });
  t.deepEqual(ids(await clean.append(events('s1', 1))), [4], 'a clean close: no gap');
  const logger = recordingLogger();
  const after = openTestStore(t, { dataDir: crashed, logger });
  t.deepEqual(ids(await after.append(events('s1', 1))), [3 + FORWARD_ID_MARGIN + 1], 'whatever the mode of this run, the ids move on');
  t.true(logger.lines.some((l) => l.level === 'warn' && new RegExp(`event ids continue ${FORWARD_ID_MARGIN} higher`).test(l.msg ?? '')));
  t.is(after.listEvents({ limit: 10 }).length, 4, 'the stored events are all there');
});

test('durability normal forwards ahead of the disk too: an unclean stop moves the ids on', async (t) => {
  const dataDir = tempDir(t);
  const first = openTestStore(t, { dataDir, durability: 'normal' });
  t.deepEqual(ids(await first.append(events('s1', 2))), [1, 2]);
  const after = openTestStore(t, { dataDir: crashCopy(t, dataDir), durability: 'normal' });
  t.deepEqual(ids(await after.append(events('s1', 1))), [2 + FORWARD_ID_MARGIN + 1]);
});

test('an unclean stop in after-sync mode skips no ids', async (t) => {
  const dataDir = tempDir(t);
  const first = openTestStore(t, { dataDir });
  t.deepEqual(ids(await first.append(events('s1', 2))), [1, 2]);
  const after = openTestStore(t, { dataDir: crashCopy(t, dataDir) });
  t.deepEqual(ids(await after.append(events('s1', 1))), [3]);
});
