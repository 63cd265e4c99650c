// The operations endpoints: status, metrics, OpenAPI, health.
import test from 'ava';
import Fastify from 'fastify';
import { registerApi, type ApiDeps } from '../../gateway/src/api/routes.js';
import { registerAuthRoutes } from '../../gateway/src/auth/auth-routes.js';
import { registerDashboard } from '../../gateway/src/dashboard/files.js';
import type { LiveFeed } from '../../gateway/src/live/live-feed.js';
import { registerLiveRoute } from '../../gateway/src/live/live-route.js';
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

/** Every route the gateway's HTTP server serves, as `METHOD /path/{param}`: what main.ts registers, on a bare fastify. */
async function servedRoutes(): Promise<Set<string>> {
  const app = Fastify();
  const routes = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      // HEAD comes with every GET; the dashboard's files are described under '/'.
      if (method !== 'HEAD' && route.url !== '/dashboard/*') routes.add(`${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    }
  });
  // Registering reads only the store's quarantine book and the image size limit; the routes are not called.
  registerApi(app, { store: { quarantine: {} }, firmware: { maxImageBytes: 1 } } as unknown as ApiDeps);
  registerAuthRoutes(app, {} as Parameters<typeof registerAuthRoutes>[1]);
  registerLiveRoute(app, {} as LiveFeed);
  registerDashboard(app, new Map());
  await app.ready();
  await app.close();
  // The spots' posts take the raw ingest route ahead of fastify (transports/ingest-route.ts).
  routes.add('POST /api/spots/{serial}/events/');
  return routes;
}

test('the OpenAPI document describes every route the gateway serves, and no other', async (t) => {
  const gw = await startTestGateway(t);
  const { status, body } = await api<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(gw.url, '/api/openapi.json');
  t.is(status, 200);
  t.regex(body.openapi, /^3\./);
  const documented = Object.entries(body.paths).flatMap(([route, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${route}`));
  const served = await servedRoutes();
  t.deepEqual([...served].filter((r) => !documented.includes(r)), [], 'served but not in the OpenAPI document');
  t.deepEqual(documented.filter((r) => !served.has(r)), [], 'in the OpenAPI document but not served');
  t.true(served.size >= 16, `${served.size} routes`);
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
