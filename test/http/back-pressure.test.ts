// Back-pressure: while the store holds appends, the gateway stops reading post bodies once its
// bound of uncommitted events is reached, and reads on (every event kept) once they settle.
import type http from 'node:http';
import test from 'ava';
import { openStore } from '../../gateway/src/store/index.js';
import { JSON_EVENTS, SpotConnection, tempDir, waitFor } from '../helpers/gateway.js';
import { heldStore, startIngestServer } from '../helpers/ingest-server.js';
import { jsonText, presence } from './events.js';

const CASES = [
  { what: 'the bound of uncommitted events over all posts', limits: { maxInFlightEvents: 40, maxPendingAppends: 1000 }, decoded: [41, 42] },
  // One append per one-event chunk: each post stops after 11 appends.
  { what: "each post's bound of unsettled appends", limits: { maxInFlightEvents: 100_000, maxPendingAppends: 10 }, decoded: [22, 22] },
];

for (const { what, limits, decoded } of CASES) {
  test(`reading pauses at ${what} and resumes when the appends commit; nothing is lost`, async (t) => {
    const store = openStore({ dataDir: tempDir(t) });
    const gate = heldStore(store);
    const { port, ingest, server } = await startIngestServer(t, { store: gate.store, closeStore: store, route: limits });
    const posts: http.IncomingMessage[] = [];
    server.on('request', (req: http.IncomingMessage) => posts.push(req));

    // Two spots, 150 one-event chunks each, all written at once.
    const conns = [new SpotConnection(port), new SpotConnection(port)];
    for (const c of conns) t.teardown(() => c.close());
    for (const [i, c] of conns.entries()) {
      await c.startPost(900 + i, { headers: JSON_EVENTS });
      for (let n = 0; n < 150; n++) await c.chunk(jsonText([presence(n)]));
      await c.endPost();
    }
    // Every byte is sent; the gateway decodes up to the bound (the chunk that passes it included) and no further.
    await waitFor(() => ingest.counters.eventsReceived >= decoded[0]! || undefined, 5000, `${decoded[0]} events decoded`);
    // Once both posts are paused, no more of them is read until the store settles appends.
    await waitFor(() => posts.length === 2 && posts.every((req) => req.isPaused()), 5000, () => `both posts paused (${posts.filter((req) => req.isPaused()).length} of ${posts.length})`);
    const whileHeld = ingest.counters.eventsReceived;
    t.true(whileHeld >= decoded[0]! && whileHeld <= decoded[1]!, `events decoded while the store held them: ${whileHeld}`);
    t.is(ingest.counters.eventsStored, 0);

    gate.release();
    for (const c of conns) t.is((await c.response(10_000)).status, 200);
    t.is(ingest.counters.eventsStored, 300);
    for (const serial of ['900', '901']) {
      const events = store.listEvents({ spot: serial, after: 0, limit: 1000 });
      const expected = Array.from({ length: 150 }, (_, n) => presence(n).data.item_code);
      t.deepEqual(events.map((e) => (JSON.parse(e.data) as { item_code: string }).item_code), expected, `spot ${serial}: every event, in order`);
    }
  });
}
