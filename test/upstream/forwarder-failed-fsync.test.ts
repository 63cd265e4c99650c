// A commit whose WAL fsync failed is in the database all the same (its spot got 503): the forwarder
// gets it at the next successful fsync, in order, and the cursor never passes it unforwarded
// (docs/storage.md, "A failed fsync"). Own file: it replaces fs.fsync for this process.
import fs from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { openStore, StoreUnavailableError, type NewEvent, type Store } from '../../gateway/src/store/index.js';
import { MqttForwarder, type ForwardSource } from '../../gateway/src/upstream/index.js';
import { tempDir, waitFor } from '../helpers/gateway.js';
import { eventIdOf, fakeFactory, type FakeClient } from './fake-client.js';

/** The next `n` fsyncs the store runs off the event loop fail with EIO, as after a failed write-back. */
function fsyncFaults(t: ExecutionContext): { failNext(n: number): void; readonly failed: number } {
  const real = fs.fsync;
  let due = 0;
  let failed = 0;
  const faulty = (fd: number, done: (err: NodeJS.ErrnoException | null) => void): void => {
    if (due === 0) return real(fd, done);
    due--;
    failed++;
    process.nextTick(() => done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5, syscall: 'fsync' })));
  };
  Object.assign(fs, { fsync: faulty });
  t.teardown(() => void Object.assign(fs, { fsync: real }));
  return {
    failNext: (n) => void (due = n),
    get failed() {
      return failed;
    },
  };
}

let seq = 0;
function numbered(spot: string): NewEvent {
  seq++;
  return { spot, resource: 'presence', action: 'create', data: JSON.stringify({ seq }), pb: null, encoding: 'json', timeReceived: Date.now(), boot: 1, seq };
}

/** A forwarder on the real store with a scripted broker; records each cursor advance with what was published by then. */
function forwarding(t: ExecutionContext, store: Store) {
  const { factory, clients } = fakeFactory();
  const published = (): number[] =>
    clients.flatMap((c: FakeClient) => c.events().map((p) => Number(String(eventIdOf(p)).split(':').at(-1))));
  const advances: Array<{ id: number; published: number[] }> = [];
  const source: ForwardSource = {
    instanceId: store.instanceId,
    pendingSpots: (u) => store.pendingSpots(u),
    readSpot: (u, spot, afterId, limit) => store.readSpot(u, spot, afterId, limit),
    cursor: (u, spot) => store.cursor(u, spot),
    onAppended: (cb) => store.onAppended(cb),
    status: () => store.status(),
    advanceCursor: (u, spot, id) => {
      advances.push({ id, published: published() });
      store.advanceCursor(u, spot, id);
    },
  };
  // Real timers: stop() waits for the scripted broker's acks a bounded time.
  const forwarder = new MqttForwarder({ url: 'mqtt://broker.test', gatewayId: 'gw1', source, clientFactory: factory, stopTimeoutMs: 200 });
  forwarder.start();
  t.teardown(() => forwarder.stop());
  clients[0]!.connack({});
  /** The broker acks everything until nothing of the store is left unacknowledged. */
  const drained = (what: string): Promise<true> =>
    waitFor(() => (clients[0]!.ackAll(), store.status().perUpstream.mqtt!.pending === 0 && clients[0]!.pending().length === 0), 5000, what);
  return { client: clients[0]!, published, advances, drained };
}

/** Every advance of the cursor passed only ids already published. */
function cursorNeverPassedUnpublished(t: ExecutionContext, advances: Array<{ id: number; published: number[] }>, stored: number[]): void {
  for (const a of advances) {
    const skipped = stored.filter((id) => id <= a.id && !a.published.includes(id));
    t.deepEqual(skipped, [], `cursor moved to ${a.id} with ${skipped.join(', ')} never published`);
  }
}

test.serial('a caught-up spot whose commit failed its fsync: every stored event is forwarded in order, the resend is a duplicate, the cursor never passes an unforwarded id', async (t) => {
  const faults = fsyncFaults(t);
  const store = openStore({ dataDir: tempDir(t, 'spot-failed-fsync-'), upstreams: ['mqtt'], commitIntervalMs: 1 });
  t.teardown(() => store.close());
  const { client, published, advances, drained } = forwarding(t, store);

  const [first] = await store.append([numbered('7')]);
  await drained('the first event acked');
  t.deepEqual(published(), [(first as { id: number }).id], 'the spot is caught up: its next events come with the commits');

  faults.failNext(1);
  const lost = numbered('7');
  const failure = await t.throwsAsync(store.append([lost]), { instanceOf: StoreUnavailableError });
  t.is(failure.code, 'io', 'the spot gets 503');
  t.is(faults.failed, 1);
  await store.append([numbered('7')]);
  t.deepEqual(await store.append([lost]), [{ duplicate: true }], 'the resend of the numbered event: it is stored already');

  const stored = store.listEvents({ spot: '7', limit: 10 }).map((e) => e.id);
  const all = [...new Set([(first as { id: number }).id, ...stored])].sort((a, b) => a - b);
  t.is(all.length, 3, 'the event whose fsync failed is in the database');
  await drained('every stored event acked');
  t.deepEqual(published(), all, 'each stored event published once, in id order');
  cursorNeverPassedUnpublished(t, advances, all);
  t.is(client.pending().length, 0);
});

test.serial('a failed fsync on the last commit: its events still go upstream, without waiting for another append', async (t) => {
  const faults = fsyncFaults(t);
  const store = openStore({ dataDir: tempDir(t, 'spot-failed-fsync-'), upstreams: ['mqtt'], commitIntervalMs: 1 });
  t.teardown(() => store.close());
  const { published, advances, drained } = forwarding(t, store);

  const [first] = await store.append([numbered('8')]);
  await drained('the first event acked');
  faults.failNext(1);
  await t.throwsAsync(store.append([numbered('8'), numbered('8')]), { instanceOf: StoreUnavailableError });
  const stored = store.listEvents({ spot: '8', limit: 10 }).map((e) => e.id);
  const all = [...new Set([(first as { id: number }).id, ...stored])].sort((a, b) => a - b);
  t.is(all.length, 3);
  await drained('the events of the failed fsync acked');
  t.deepEqual(published(), all);
  cursorNeverPassedUnpublished(t, advances, all);
});
