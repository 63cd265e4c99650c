import test from 'ava';
import { StoreUnavailableError } from '../../gateway/src/store/types.js';
import { events, ids, openTestStore, recordingLogger, tempDir, waitFor } from './helpers.js';

const MiB = 1024 * 1024;
const payload = (i: number) => JSON.stringify({ item: `E200-3412-${String(i).padStart(8, '0')}`, pad: 'p'.repeat(300) });

test('drop-oldest keeps the file under the cap and counts every dropped event', async (t) => {
  const logger = recordingLogger();
  const maxBytes = 2 * MiB;
  const store = openTestStore(t, { dataDir: tempDir(t), maxBytes, policy: 'drop-oldest', upstreams: ['mqtt'], logger });
  let appended = 0;
  let maxSeen = 0;
  let lastIds: number[] = [];
  for (let round = 0; round < 30; round++) {
    const batch = events(`spot-${round % 3}`, 500).map((e, k) => ({ ...e, data: payload(round * 500 + k) }));
    lastIds = ids(await store.append(batch));
    appended += batch.length;
    maxSeen = Math.max(maxSeen, store.status().bytes);
  }
  const s = store.status();
  t.log(`appended ${appended} (~${Math.round((appended * 340) / MiB)} MiB), kept ${s.events}, dropped ${s.dropped}, max on disk ${maxSeen} of ${maxBytes}`);
  t.true(s.dropped > 0);
  t.is(s.events + s.dropped, appended, 'every event is either kept or counted as dropped');
  t.true(maxSeen <= maxBytes, `on disk ${maxSeen} > cap ${maxBytes}`);
  const kept = store.listEvents({ limit: 100_000 }).map((e) => e.id);
  t.deepEqual(kept.slice(-500), lastIds, 'the newest events are kept');
  t.is(kept[0], s.dropped + 1, 'the oldest ones went first');
  const warns = logger.lines.filter((l) => l.level === 'warn' && /dropped the \d+ oldest events/.test(l.msg ?? ''));
  t.true(warns.length > 0);
  t.is(
    warns.reduce((n, l) => n + (l.obj as { dropped: number }).dropped, 0),
    s.dropped,
    'the warn lines add up to the drop count',
  );
  const spot0 = store.cursor('mqtt', 'spot-0');
  t.true(spot0 > 0, 'cursors move past dropped events');
});

test('drop count survives a restart', async (t) => {
  const dataDir = tempDir(t);
  const first = openTestStore(t, { dataDir, maxBytes: MiB });
  for (let round = 0; round < 10; round++) {
    await first.append(events('a', 500).map((e, k) => ({ ...e, data: payload(k) })));
  }
  const dropped = first.status().dropped;
  t.true(dropped > 0);
  await first.close();
  t.is(openTestStore(t, { dataDir, maxBytes: MiB }).status().dropped, dropped);
});

test('reject refuses appends with code full until forwarded events are pruned', async (t) => {
  const maxBytes = 2 * MiB;
  const store = openTestStore(t, { dataDir: tempDir(t), maxBytes, policy: 'reject', upstreams: ['mqtt'] });
  let refused: unknown = null;
  let stored = 0;
  for (let round = 0; round < 40 && !refused; round++) {
    try {
      stored += (await store.append(events('a', 500).map((e, k) => ({ ...e, data: payload(k) })))).length;
    } catch (err) {
      refused = err;
    }
  }
  t.true(refused instanceof StoreUnavailableError, `expected a refusal, stored ${stored}`);
  const e = refused as StoreUnavailableError;
  t.is(e.code, 'full');
  t.is(e.retryAfterSeconds, 5);
  t.regex(e.message, /buffer full.*policy reject/);
  t.is(store.status().events, stored, 'nothing was dropped');
  t.is(store.status().dropped, 0);
  t.true(store.status().bytes <= maxBytes);
  await t.throwsAsync(store.append(events('a', 500).map((e, k) => ({ ...e, data: payload(k) }))), {
    instanceOf: StoreUnavailableError,
    message: /buffer full/,
  });

  store.advanceCursor('mqtt', 'a', store.pendingSpots('mqtt')[0]!.lastId);
  await waitFor(() => store.status().events === 0, 10_000, 'forwarded events to be pruned');
  const again = await store.append(events('a', 10));
  t.is(ids(again).length, 10);
});

test('reject stores the appends of a batch that fit and refuses only the rest', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), maxBytes: 2 * MiB, policy: 'reject', commitIntervalMs: 50 });
  // One group commit offered ~2 MiB of appends while about 1.7 MiB fit under the cap.
  const settled = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) => store.append(events(`s${i}`, 100).map((e, k) => ({ ...e, data: payload(k) })))),
  );
  const stored = settled.filter((s) => s.status === 'fulfilled').length;
  const refused = settled.filter((s) => s.status === 'rejected');
  t.log(`${stored} appends stored, ${refused.length} refused`);
  t.true(stored > 0 && refused.length > 0);
  t.is(store.status().events, stored * 100, 'exactly the resolved appends were stored');
  t.is(store.status().commits, 1);
  for (const r of refused) t.is((r.reason as StoreUnavailableError).code, 'full');
  const firstRefused = settled.findIndex((s) => s.status === 'rejected');
  t.true(firstRefused === -1 || settled.slice(firstRefused).every((s) => s.status === 'rejected'), 'the earliest appends go first');
});
