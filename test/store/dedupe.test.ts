import test from 'ava';
import { event, ids, openTestStore, tempDir } from './helpers.js';

const numbered = (spot: string, boot: number, seq: number) => event(spot, { boot, seq });

test('a retransmitted numbered event is a duplicate: not stored, counted', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t) });
  const first = await store.append([numbered('a', 1, 1), numbered('a', 1, 2), numbered('a', 1, 3)]);
  t.deepEqual(ids(first), [1, 2, 3]);
  const again = await store.append([numbered('a', 1, 2), numbered('a', 1, 3), numbered('a', 1, 4)]);
  t.deepEqual(again, [{ duplicate: true }, { duplicate: true }, { id: 4 }]);
  t.is(store.status().events, 4);
  t.is(store.status().duplicates, 2);
});

test('a new boot resets the numbering', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t) });
  await store.append([numbered('a', 1, 1), numbered('a', 1, 2)]);
  const afterReboot = await store.append([numbered('a', 2, 1)]);
  t.true('id' in afterReboot[0]!);
  t.deepEqual(await store.append([numbered('a', 2, 1)]), [{ duplicate: true }]);
});

test('numbering is per spot, and events without numbering are always stored', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t) });
  await store.append([numbered('a', 1, 1)]);
  const other = await store.append([numbered('b', 1, 1)]);
  t.true('id' in other[0]!);
  const plain = await store.append([event('a'), event('a')]);
  t.is(ids(plain).filter((i) => i > 0).length, 2);
});

test('duplicates inside one group commit are caught', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), commitIntervalMs: 20 });
  const [x, y] = await Promise.all([
    store.append([numbered('a', 7, 1), numbered('a', 7, 2)]),
    store.append([numbered('a', 7, 1), numbered('a', 7, 2), numbered('a', 7, 3)]),
  ]);
  t.deepEqual(ids(x).length, 2);
  t.deepEqual(y, [{ duplicate: true }, { duplicate: true }, { id: 3 }]);
});

test('the numbering survives a restart', async (t) => {
  const dataDir = tempDir(t);
  const first = openTestStore(t, { dataDir });
  await first.append([numbered('a', 1, 5)]);
  await first.close();
  const second = openTestStore(t, { dataDir });
  t.deepEqual(await second.append([numbered('a', 1, 5), numbered('a', 1, 6)]), [{ duplicate: true }, { id: 2 }]);
  t.is(second.status().duplicates, 1);
});
