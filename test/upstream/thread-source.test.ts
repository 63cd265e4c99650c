// The forwarder thread's view of the store: its own read connection, reads capped at what the
// main thread acknowledged, cursor advances sent back in one batch per turn.
import test from 'ava';
import { ThreadSource } from '../../gateway/src/upstream/thread-source.js';
import { openTestStore, tempDir, event } from '../store/helpers.js';

test('reads stop at the acknowledged ids; appended notifications move them; cursors go back batched', async (t) => {
  const store = openTestStore(t, { dataDir: tempDir(t), upstreams: ['mqtt'] });
  await store.append([event('a'), event('a'), event('b')]);
  await store.flush();
  const sent: Array<Array<[string, number]>> = [];
  const source = new ThreadSource(store.dbPath, store.instanceId, 'mqtt', (list) => sent.push(list));
  t.teardown(() => source.close());
  // Everything in the file when the thread started counts as acknowledged.
  t.deepEqual(source.readSpot('mqtt', 'a', 0, 10).map((e) => e.id), [1, 2]);
  t.deepEqual(source.pendingSpots('mqtt').map((b) => [b.spot, b.cursor, b.lastId]), [['a', 0, 2], ['b', 0, 3]]);
  // Committed but not acknowledged yet (no notification): not read.
  await store.append([event('a')]);
  await store.flush();
  t.deepEqual(source.readSpot('mqtt', 'a', 2, 10), []);
  const heard: Array<[string, number]> = [];
  source.onAppended((spot, lastId) => heard.push([spot, lastId]));
  source.appended([['a', 4]]);
  t.deepEqual(heard, [['a', 4]]);
  t.deepEqual(source.readSpot('mqtt', 'a', 2, 10).map((e) => e.id), [4]);
  source.advanceCursor('mqtt', 'a', 2);
  source.advanceCursor('mqtt', 'a', 4);
  source.advanceCursor('mqtt', 'b', 3);
  source.advanceCursor('mqtt', 'a', 1);
  t.is(source.cursor('mqtt', 'a'), 4, 'never backwards');
  await new Promise((r) => setImmediate(r));
  t.deepEqual(sent, [[['a', 4], ['b', 3]]], 'one message per turn with the newest cursor per spot');
  t.deepEqual(source.pendingSpots('mqtt'), []);
});
