// The size cap at gateway level, policy drop-oldest: spots keep getting 200, the oldest events go, every drop is counted.
import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { api, JSON_EVENTS, postChunks, startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { jsonText, presence } from './events.js';

interface Status {
  buffer: { events: number; dropped: number; maxBytes: number; bytes: number; policy: string };
  upstreams: Record<string, { drops: number; lag: number }>;
}

/** A port nothing listens on: a broker that is down. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

const POSTS = 40;
const PER_POST = 250;

/** 10000 presences (~3.4 MB in the database) into a 1 MiB cap; returns the item codes of the last post. */
async function overflow(t: ExecutionContext, gw: TestGateway): Promise<string[]> {
  let last: string[] = [];
  for (let p = 0; p < POSTS; p++) {
    const events = Array.from({ length: PER_POST }, (_, i) => presence(p * PER_POST + i));
    const res = await postChunks(gw.port, 90, [jsonText(events)], { headers: JSON_EVENTS });
    t.is(res.status, 200, `post ${p} is acknowledged: drop-oldest never refuses`);
    last = events.map((e) => String(e.data.item_code));
  }
  return last;
}

async function checkDropped(t: ExecutionContext, gw: TestGateway, newest: string[]): Promise<Status> {
  // While a drop runs the WAL can pass its reserve (reported as a store issue); once checkpointed the cap holds.
  const status = await waitFor(async () => {
    const { body } = await api<Status>(gw.url, '/api/status');
    return body.buffer.bytes <= body.buffer.maxBytes ? body : undefined;
  }, 10000, 'database + WAL under the cap once idle');
  t.is(status.buffer.policy, 'drop-oldest');
  t.true(status.buffer.dropped > 0, `dropped ${status.buffer.dropped}`);
  t.is(status.buffer.events + status.buffer.dropped, POSTS * PER_POST, 'every event is either kept or counted as dropped');
  const metrics = (await api<string>(gw.url, '/metrics')).body;
  const counter = /^spot_gateway_buffer_dropped_total (\d+)$/m.exec(metrics);
  t.truthy(counter, 'the dropped counter is exported');
  t.is(Number(counter?.[1]), status.buffer.dropped);

  const { body: kept } = await api<Array<{ id: number; data: { item_code: string } }>>(gw.url, '/api/events?spot=90&limit=10000');
  t.is(kept.length, status.buffer.events);
  t.deepEqual(kept.slice(-newest.length).map((e) => e.data.item_code), newest, 'the newest post is all there, in order');
  t.is(kept[0]!.id, status.buffer.dropped + 1, 'the oldest went first');
  t.log(`kept ${status.buffer.events}, dropped ${status.buffer.dropped}, ${status.buffer.bytes} of ${status.buffer.maxBytes} bytes`);
  return status;
}

test('no upstream: a few thousand events over a 1 MiB cap drop the oldest, counted in status and metrics', async (t) => {
  const gw = await startTestGateway(t, { config: { buffer: { max_mb: 1 } } });
  const newest = await overflow(t, gw);
  const status = await checkDropped(t, gw, newest);
  // Losing events is what a site must hear about: /healthz says so for a minute after the last drop.
  const { body: health } = await api<{ status: string; reason: string }>(gw.url, '/healthz');
  t.is(health.status, 'degraded');
  t.regex(health.reason, new RegExp(`^buffer at its cap of 1 MiB: ${status.buffer.dropped} events dropped so far \\(policy drop-oldest\\), the last \\d+ s ago$`));
});

test('broker down: the cap drops the oldest unforwarded events and the upstream counts them as drops', async (t) => {
  const gw = await startTestGateway(t, { config: { buffer: { max_mb: 1 }, mqtt: { url: `mqtt://127.0.0.1:${await deadPort()}` } } });
  const newest = await overflow(t, gw);
  const status = await checkDropped(t, gw, newest);
  t.is(status.upstreams.mqtt!.drops, status.buffer.dropped, 'the upstream reports the events it will never forward');
  t.is(status.upstreams.mqtt!.lag, status.buffer.events, 'what is kept is still waiting for the broker');
});
