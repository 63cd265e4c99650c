// A dashboard spot page opens with the spot's newest events: the store's history (buffer.retain),
// also after a restart, merged with the memory ring; bounded in count and bytes.
import test from 'ava';
import { recentOfSpot } from '../../gateway/src/live/page-events.js';
import type { RecentEvent } from '../../gateway/src/live/spot-activity.js';
import { JSON_EVENTS, postChunks, startTestGateway, within } from '../helpers/gateway.js';
import { jsonText, presence } from '../http/events.js';

const ev = (id: number, data = '{}'): RecentEvent => ({ id, spot: '7', resource: 'presence', action: 'update', data, timeReceived: id });

test('store and memory are merged by id, the newest 50 kept, at most 64 KiB of data (one event at least)', (t) => {
  const stored = Array.from({ length: 50 }, (_, i) => ev(i + 1));
  const memory = [ev(49), ev(50), ev(51), ev(52)];
  const ids = recentOfSpot({ newestEvents: () => stored }, { recent: () => memory }, '7').map((e) => e.id);
  t.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i + 3));
  const big = 'x'.repeat(40_000);
  t.deepEqual(recentOfSpot({ newestEvents: () => [ev(1, big), ev(2, big)] }, { recent: () => [] }, '7').map((e) => e.id), [2]);
  t.deepEqual(recentOfSpot({ newestEvents: () => [ev(1, 'y'.repeat(70_000))] }, { recent: () => [] }, '7').map((e) => e.id), [1]);
});

test('after a restart, /api/live?spot= opens with the events the buffer kept', async (t) => {
  const first = await startTestGateway(t, { config: { buffer: { retain: '1h' } } });
  const events = Array.from({ length: 60 }, (_, i) => presence(i));
  t.is((await postChunks(first.port, 4711, [jsonText(events)], { headers: JSON_EVENTS })).status, 200);
  await first.stop();
  const again = await startTestGateway(t, { dataDir: first.dataDir, config: { buffer: { retain: '1h' } } });
  const res = await fetch(`${again.url}/api/live?spot=4711`, { signal: AbortSignal.timeout(10_000) });
  const reader = res.body!.getReader();
  t.teardown(() => reader.cancel().catch(() => undefined));
  let text = '';
  const decoder = new TextDecoder();
  await within(
    (async () => {
      while ((text.match(/^event: event$/gm) ?? []).length < 50) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended: ${text}`);
        text += decoder.decode(value);
      }
    })(),
    10_000,
    'the spot page events',
  );
  const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  t.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i + 11), 'the newest 50 of the 60 stored before the restart, in order');
});
