// The spots with a backlog are kept as events come and cursors move (backlog.ts): what pendingSpots,
// status and pruning derive from them must stay what a look at every spot would give.
import test from 'ava';
import type { Store } from '../../gateway/src/store/types.js';
import { event, ids, openTestStore, tempDir, waitFor } from './helpers.js';

const UPSTREAMS = ['a', 'b'];

/** What a pass over every spot gives: per upstream, spot -> [cursor, lastId, events above the cursor]. */
function bruteForce(store: Store, lastIds: Map<string, number>, stored: Map<string, number[]>): Map<string, Map<string, [number, number, number]>> {
  const out = new Map<string, Map<string, [number, number, number]>>();
  for (const u of UPSTREAMS) {
    const pending = new Map<string, [number, number, number]>();
    for (const [spot, lastId] of lastIds) {
      const cursor = store.cursor(u, spot);
      if (lastId > cursor) pending.set(spot, [cursor, lastId, (stored.get(spot) ?? []).filter((id) => id > cursor).length]);
    }
    out.set(u, sorted(pending));
  }
  return out;
}

/** Flushes (a pruning pass each) until `left` events remain; bounded. */
async function pruned(store: Store, left: number): Promise<void> {
  await waitFor(
    async () => {
      if (store.status().events <= left) return true;
      await store.flush();
      return false;
    },
    10_000,
    () => `pruning down to ${left} events (${store.status().events} left)`,
  );
}

/** Maps compare in insertion order. */
function sorted<V>(m: Map<string, V>): Map<string, V> {
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function pendingOf(store: Store, u: string): Map<string, [number, number, number]> {
  return sorted(new Map(
    store.pendingSpots(u).map((p) => [p.spot, [p.cursor, p.lastId, store.listEvents({ spot: p.spot, after: p.cursor, limit: 10000 }).length]]),
  ));
}

test('with thousands of spots, pendingSpots, status and pruning match a pass over every spot, also after a restart', async (t) => {
  const dataDir = tempDir(t);
  let store = openTestStore(t, { dataDir, upstreams: UPSTREAMS, indexFlushMs: 0 });
  const spots = Array.from({ length: 2000 }, (_, i) => String(10_000 + i));
  const lastIds = new Map<string, number>();
  const stored = new Map<string, number[]>();
  // mulberry32: the same spots and cursors on every run.
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) % n;
  };

  for (let round = 0; round < 3; round++) {
    const batch = spots.filter(() => random(3) === 0).flatMap((spot) => [event(spot), event(spot)]);
    const got = ids(await store.append(batch));
    batch.forEach((e, i) => {
      lastIds.set(e.spot, got[i]!);
      stored.set(e.spot, [...(stored.get(e.spot) ?? []), got[i]!]);
    });
    // Each upstream forwards some spots fully, some half, some not at all.
    for (const u of UPSTREAMS) {
      for (const spot of spots) {
        const own = stored.get(spot);
        if (!own || own.length === 0) continue;
        const r = random(4);
        if (r === 0) store.advanceCursor(u, spot, own[own.length - 1]!);
        else if (r === 1) store.advanceCursor(u, spot, own[Math.floor(own.length / 2)]!);
      }
    }
    await store.flush();
    // Pruned: what every upstream is done with.
    for (const [spot, own] of stored) stored.set(spot, own.filter((id) => id > Math.min(...UPSTREAMS.map((u) => store.cursor(u, spot)))));

    const expected = bruteForce(store, lastIds, stored);
    for (const u of UPSTREAMS) {
      t.deepEqual(pendingOf(store, u), expected.get(u), `round ${round}, upstream ${u}: pendingSpots`);
      const status = store.status().perUpstream[u]!;
      t.is(status.spotsPending, expected.get(u)!.size);
      t.is(status.pending, [...expected.get(u)!.values()].reduce((n, [, , above]) => n + above, 0));
    }
    // Pruned to what some upstream still needs; per spot that takes a pass or two (paced, storage.md).
    const left = [...stored.values()].reduce((n, own) => n + own.length, 0);
    await pruned(store, left);
    t.is(store.status().events, left, `round ${round}: pruned to what some upstream still needs`);
  }

  await store.close();
  store = openTestStore(t, { dataDir, upstreams: UPSTREAMS, indexFlushMs: 0 });
  const expected = bruteForce(store, lastIds, stored);
  for (const u of UPSTREAMS) t.deepEqual(pendingOf(store, u), expected.get(u), `after a restart, upstream ${u}`);
});

test('a new spot pending from its first event does not keep the forwarded events of the others on disk', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'] });
  const forwarded = ids(await store.append(Array.from({ length: 500 }, (_, i) => event(String(i)))));
  forwarded.forEach((id, i) => store.advanceCursor('mqtt', String(i), id));
  // Its cursor is 0, but it needs nothing below its first event.
  await store.append([event('newcomer')]);
  await store.flush();
  t.is(store.status().events, 1);
  t.deepEqual(store.pendingSpots('mqtt').map((p) => p.spot), ['newcomer']);
});

test('the pending counts stay exact while the size cap drops events, forwarded or not', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: UPSTREAMS, maxBytes: 256 * 1024 });
  const spots = Array.from({ length: 50 }, (_, i) => String(500 + i));
  const big = JSON.stringify({ pad: 'x'.repeat(2000) });
  for (let round = 0; round < 12; round++) {
    const got = ids(await store.append(spots.flatMap((spot) => [event(spot, { data: big }), event(spot, { data: big })])));
    // Upstream a forwards every other spot; b only the first ten.
    spots.forEach((spot, i) => {
      if (i % 2 === 0) store.advanceCursor('a', spot, got[2 * i + 1]!);
      if (i < 10) store.advanceCursor('b', spot, got[2 * i]!);
    });
    await store.flush();
    for (const u of UPSTREAMS) {
      const counted = store.pendingSpots(u).reduce((n, p) => n + store.listEvents({ spot: p.spot, after: p.cursor, limit: 10000 }).length, 0);
      t.is(store.status().perUpstream[u]!.pending, counted, `round ${round}, upstream ${u}`);
    }
  }
  t.true(store.status().dropped > 0, 'the cap dropped events');
});
