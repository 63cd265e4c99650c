// The operations endpoints: status, metrics, OpenAPI, health.
import test from 'ava';
import { startMosquitto } from '../helpers/mosquitto.js';
import { api, JSON_EVENTS, postChunks, startTestGateway, waitFor } from '../helpers/gateway.js';
import { jsonText, presence } from './events.js';

test('status reports buffer, upstream state/cursor/lag/rate/drops, ingest and spots', async (t) => {
  const broker = await startMosquitto({ t });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url } } });
  t.is((await postChunks(gw.port, 5, [jsonText([presence(1), presence(2), presence(3)])], { headers: JSON_EVENTS })).status, 200);
  const status = await waitFor(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test reads a dozen parts of the status body
    const { body } = await api<any>(gw.url, '/api/status');
    return body.upstreams.mqtt.lag === 0 && body.upstreams.mqtt.acked === 3 ? body : undefined;
  }, 10000, 'the upstream to acknowledge the 3 events');
  t.is(status.upstreams.mqtt.state, 'connected');
  for (const key of ['cursor', 'lag', 'rate', 'drops']) t.true(key in status.upstreams.mqtt, key);
  for (const key of ['events', 'bytes', 'maxBytes', 'policy', 'oldestUnforwardedAgeMs', 'dropped']) t.true(key in status.buffer, key);
  t.true(status.buffer.bytes > 0);
  t.is(status.ingest.eventsStored, 3);
  t.deepEqual(status.spots, { known: 1, online: 1 });
  t.is(status.gateway.id, 'test-gateway');
});

test('metrics are Prometheus text with ingest, buffer and upstream figures', async (t) => {
  const gw = await startTestGateway(t);
  t.is((await postChunks(gw.port, 6, [jsonText([presence(1)]) + '[oops\n\n'], { headers: JSON_EVENTS })).status, 200);
  const res = await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(5000) });
  t.regex(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  t.regex(text, /^spot_gateway_events_stored_total 1$/m);
  t.regex(text, /^spot_gateway_rejected_total 1$/m);
  t.regex(text, /^spot_gateway_posts_total 1$/m);
  t.regex(text, /^spot_gateway_buffer_events 1$/m);
  t.regex(text, /^spot_gateway_spots_online 1$/m);
  // The disk: every acknowledgement waited for a WAL fsync (durability full), each counted once.
  const count = Number(/^spot_gateway_wal_fsync_seconds_count (\d+)$/m.exec(text)?.[1]);
  t.true(count >= 1, `fsyncs counted: ${count}`);
  t.regex(text, new RegExp(`^spot_gateway_wal_fsync_seconds_bucket\\{le="\\+Inf"\\} ${count}$`, 'm'));
  t.regex(text, /^spot_gateway_wal_fsync_seconds_bucket\{le="0.005"\} \d+$/m);
  t.regex(text, /^# TYPE spot_gateway_wal_fsync_seconds histogram$/m);
  const { body: status } = await api<{ buffer: { walFsync: { count: number; meanMs: number; p99Ms: number; maxMs: number } } }>(gw.url, '/api/status');
  t.true(status.buffer.walFsync.count >= count);
  t.true(status.buffer.walFsync.maxMs >= status.buffer.walFsync.meanMs && status.buffer.walFsync.meanMs > 0);
});

test('the OpenAPI document describes every route the gateway serves', async (t) => {
  const gw = await startTestGateway(t);
  const { status, body } = await api<{ openapi: string; paths: Record<string, unknown> }>(gw.url, '/api/openapi.json');
  t.is(status, 200);
  t.regex(body.openapi, /^3\./);
  for (const route of ['/api/spots/{serial}/events/', '/api/spots/{serial}/commands', '/api/spots', '/api/spots/{serial}', '/api/events', '/api/rejected', '/api/quarantine', '/api/quarantine/{id}/resend', '/api/quarantine/{id}', '/api/status', '/api/log-level', '/api/backup', '/healthz', '/metrics']) {
    t.truthy(body.paths[route], route);
  }
  const health = await api<{ status: string }>(gw.url, '/healthz');
  t.deepEqual([health.status, health.body.status], [200, 'ok']);
});

test('/api/events?after=N returns only ids above N, in id order, across spots', async (t) => {
  const gw = await startTestGateway(t);
  t.is((await postChunks(gw.port, 7, [jsonText([presence(1), presence(2), presence(3)])], { headers: JSON_EVENTS })).status, 200);
  t.is((await postChunks(gw.port, 8, [jsonText([presence(4), presence(5)])], { headers: JSON_EVENTS })).status, 200);
  t.is((await postChunks(gw.port, 7, [jsonText([presence(6)])], { headers: JSON_EVENTS })).status, 200);
  type Listed = Array<{ id: number; spot: string; data: { item_code: string } }>;
  const { body: all } = await api<Listed>(gw.url, '/api/events');
  t.is(all.length, 6);
  const code = (i: number) => String(presence(i).data.item_code);
  t.deepEqual(all.map((e) => e.data.item_code), [1, 2, 3, 4, 5, 6].map(code));
  const ids = all.map((e) => e.id);
  t.deepEqual(ids, [...ids].sort((a, b) => a - b));
  const n = ids[2]!;
  const { body: after } = await api<Listed>(gw.url, `/api/events?after=${n}`);
  t.deepEqual(after.map((e) => e.id), ids.slice(3), `only ids above ${n}, in order`);
  const { body: afterFor7 } = await api<Listed>(gw.url, `/api/events?spot=7&after=${n}`);
  t.deepEqual(afterFor7.map((e) => [e.spot, e.data.item_code]), [['7', code(6)]]);
  const { body: page } = await api<Listed>(gw.url, `/api/events?after=${ids[0]}&limit=2`);
  t.deepEqual(page.map((e) => e.id), ids.slice(1, 3), 'limit takes the first ones above N');
  t.deepEqual((await api<Listed>(gw.url, `/api/events?after=${ids[5]}`)).body, []);
});
