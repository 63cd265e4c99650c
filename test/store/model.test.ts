// The store against a model: random appends (numbered or not), cursor moves and restarts.
import test from 'ava';
import fc from 'fast-check';
import { openStore } from '../../gateway/src/store/index.js';
import type { NewEvent, Store } from '../../gateway/src/store/types.js';
import { tempDir } from './helpers.js';

type Step =
  | { kind: 'append'; spot: number; n: number; boot: number | null; seqStart: number }
  | { kind: 'advance'; upstream: number; spot: number; fraction: number }
  | { kind: 'restart' }
  | { kind: 'pause' };

const SPOTS = ['s0', 's1', 's2'];
const UPSTREAMS = ['mqtt', 'server'];

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      spot: fc.integer({ min: 0, max: 2 }),
      n: fc.integer({ min: 1, max: 80 }), // over ROWS_PER_INSERT: several INSERT statements per batch
      boot: fc.option(fc.integer({ min: 1, max: 2 }), { nil: null }),
      seqStart: fc.integer({ min: 1, max: 60 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      upstream: fc.integer({ min: 0, max: 1 }),
      spot: fc.integer({ min: 0, max: 2 }),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pause' as const }) },
);

// indexFlushMs 0 writes every spot's ids to event_spots at each commit; the default keeps a second of them in memory.
for (const indexFlushMs of [0, undefined]) {
test(`stored events match a model of appends, dedupe, cursors and pruning across restarts (index flush ${indexFlushMs ?? 'default'})`, async (t) => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 25 }), async (steps) => {
      const dataDir = tempDir(t, `spot-store-model-${run++}-`);
      const open = (): Store => openStore({ dataDir, upstreams: UPSTREAMS, commitIntervalMs: 1, indexFlushMs });
      let store = open();
      const acked = new Map<number, { spot: string; data: string }>();
      const numbering = new Map<string, { boot: number; high: number }>();
      const cursors = new Map<string, number>();
      let counter = 0;
      try {
        for (const s of steps) {
          if (s.kind === 'append') {
            const spot = SPOTS[s.spot]!;
            const batch: NewEvent[] = Array.from({ length: s.n }, (_, k) => ({
              spot,
              resource: 'hit',
              action: 'create',
              data: JSON.stringify({ n: counter++ }),
              pb: null,
              encoding: 'json',
              timeReceived: counter,
              boot: s.boot,
              seq: s.boot === null ? null : s.seqStart + k,
            }));
            const expectDuplicate = batch.map((e) => {
              if (e.boot === null || e.seq === null) return false;
              const n = numbering.get(spot);
              if (n && n.boot === e.boot && e.seq <= n.high) return true;
              numbering.set(spot, { boot: e.boot, high: n && n.boot === e.boot ? Math.max(n.high, e.seq) : e.seq });
              return false;
            });
            const outcomes = await store.append(batch);
            if (outcomes.map((o) => 'duplicate' in o).join() !== expectDuplicate.join()) return false;
            outcomes.forEach((o, k) => {
              if ('id' in o) acked.set(o.id, { spot, data: batch[k]!.data });
            });
          } else if (s.kind === 'advance') {
            const spot = SPOTS[s.spot]!;
            const mine = [...acked.entries()].filter(([, e]) => e.spot === spot).map(([id]) => id);
            const target = mine[Math.floor(s.fraction * mine.length)] ?? 0;
            const key = `${UPSTREAMS[s.upstream]}/${spot}`;
            store.advanceCursor(UPSTREAMS[s.upstream]!, spot, target);
            cursors.set(key, Math.max(cursors.get(key) ?? 0, target));
          } else if (s.kind === 'restart') {
            await store.close();
            store = open();
          } else {
            // The step "time passes" of the model, not a wait: the store's own timers (cursor writes, prune passes) run.
            await new Promise((r) => setTimeout(r, 120));
          }
          // Invariant: every acknowledged event is stored unchanged unless every upstream is past it.
          const stored = new Map(store.listEvents({ limit: 100_000 }).map((e) => [e.id, e]));
          for (const [id, e] of acked) {
            const prunable = UPSTREAMS.every((u) => (cursors.get(`${u}/${e.spot}`) ?? 0) >= id);
            const got = stored.get(id);
            if (!got && !prunable) return false;
            if (got && (got.data !== e.data || got.spot !== e.spot)) return false;
          }
          for (const id of stored.keys()) if (!acked.has(id)) return false;
          // Per-spot reads (event_spots and the memory tier) see exactly the stored events of the spot, in order.
          const storedIds = [...stored.keys()].sort((a, b) => a - b);
          let pendingTotal = 0;
          for (const spot of SPOTS) {
            const mine = storedIds.filter((id) => stored.get(id)!.spot === spot);
            if (store.listEvents({ spot, limit: 100_000 }).map((e) => e.id).join() !== mine.join()) return false;
            for (const u of UPSTREAMS) {
              const after = mine.filter((id) => id > store.cursor(u, spot));
              if (store.readSpot(u, spot, store.cursor(u, spot), 100_000).map((e) => e.id).join() !== after.join()) return false;
              if (after.length > 3 && store.readSpot(u, spot, after[1]!, 2).map((e) => e.id).join() !== after.slice(2, 4).join()) return false;
              if (u === 'mqtt') pendingTotal += after.length;
            }
          }
          if (store.status().events !== stored.size) return false;
          if (store.status().perUpstream.mqtt!.pending !== pendingTotal) return false;
          for (const u of UPSTREAMS) {
            for (const spot of SPOTS) if (store.cursor(u, spot) !== (cursors.get(`${u}/${spot}`) ?? 0)) return false;
          }
        }
        return true;
      } finally {
        await store.close();
      }
    }),
    { numRuns: 25 },
  );
  t.pass();
});
}
