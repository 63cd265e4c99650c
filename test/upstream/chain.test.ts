// Chained gateways (docs/chaining.md): a spot posts to a site gateway, which forwards to a central gateway
// through its spot_server upstream. Real gateways, real sockets, real SQLite files, real Mosquitto.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DeepPartial, GatewayConfig } from '../../gateway/src/config/index.js';
import { createJsonDecoder, decodeFrame } from '../../gateway/src/protocol/index.js';
import { api, JSON_EVENTS, PB_EVENTS, postChunks, spawnGateway, startTestGateway, tempDir, waitFor, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { jsonText, pbStream, presence } from '../http/events.js';
import { seedAuth } from '../auth/http.js';
import { startConsumer } from './consumer.js';

interface Listed {
  id: number;
  spot: string;
  resource: string;
  action: string;
  data: Record<string, unknown>;
  forwarded: Record<string, boolean>;
}

type Upstream = { state: string; lag: number | null; acked: number; refused: number; lastError: string | null; reconnects: number; spotsHeld?: number; spotsWaiting?: number; spotsTracked?: number };
type Status = { upstreams: Record<string, Upstream> };

const WAIT_MS = 20000;

async function eventsOf(url: string, spot: number): Promise<Listed[]> {
  return (await api<Listed[]>(url, `/api/events?spot=${spot}&limit=10000`)).body;
}

async function statusOf(url: string): Promise<Status> {
  return (await api<Status>(url, '/api/status')).body;
}

function central(t: Parameters<typeof startTestGateway>[0], config: DeepPartial<GatewayConfig> = {}, dataDir?: string): Promise<TestGateway> {
  return startTestGateway(t, { dataDir, config: { gateway: { id: 'central' }, ...config } });
}

function site(t: Parameters<typeof startTestGateway>[0], centralUrl: string, config: DeepPartial<GatewayConfig> = {}, dataDir?: string): Promise<TestGateway> {
  return startTestGateway(t, {
    dataDir,
    config: {
      ...config,
      gateway: { id: 'site' },
      // A short backoff and poll: the tests wait for conditions, bounded.
      spot_server: { url: centralUrl, poll_after_s: 0.05, max_events_per_post: 7, ...config.spot_server },
    },
  });
}

/** JSON events i..i+n-1 from `serial`, numbered by the spot itself, with a User-Agent. */
function postJson(gw: { port: number }, serial: number, from: number, n: number, boot = 3): Promise<{ status: number }> {
  const events = Array.from({ length: n }, (_, k) => presence(from + k));
  return postChunks(gw.port, serial, [jsonText(events)], {
    headers: { ...JSON_EVENTS, 'User-Agent': 'spot/4.5.6', 'X-Spot-Boot': String(boot), 'X-Spot-Seq': String(from + 1) },
  });
}

function postPb(gw: { port: number }, serial: number, from: number, n: number): Promise<{ status: number }> {
  const events = Array.from({ length: n }, (_, k) => presence(from + k));
  return postChunks(gw.port, serial, [pbStream(events)], { headers: { ...PB_EVENTS, 'User-Agent': 'spot/7.8.9' } });
}

const labels = (events: Listed[]): unknown[] => events.map((e) => e.data.label);

test('events of a JSON and a PB spot reach the central gateway in order, as they were stored, and its broker; each post keeps the spot\'s User-Agent', async (t) => {
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['from/#'], t);
  const c = await central(t, { mqtt: { url: broker.url } });
  const s = await site(t, c.url);

  t.is((await postJson(s, 101, 0, 20)).status, 200);
  t.is((await postPb(s, 102, 0, 12)).status, 200);
  t.is((await postJson(s, 101, 20, 5)).status, 200);

  const at101 = await waitFor(async () => ((await eventsOf(c.url, 101)).length >= 25 ? eventsOf(c.url, 101) : undefined), WAIT_MS, 'spot 101 at the central');
  const at102 = await waitFor(async () => ((await eventsOf(c.url, 102)).length >= 12 ? eventsOf(c.url, 102) : undefined), WAIT_MS, 'spot 102 at the central');
  const site101 = await eventsOf(s.url, 101);
  const site102 = await eventsOf(s.url, 102);
  t.deepEqual(at101.map((e) => [e.resource, e.action, e.data]), site101.map((e) => [e.resource, e.action, e.data]), 'JSON: the same events, in order');
  t.deepEqual(at102.map((e) => [e.resource, e.action, e.data]), site102.map((e) => [e.resource, e.action, e.data]), 'PB: the same events, in order');
  t.deepEqual(labels(at101), Array.from({ length: 25 }, (_, i) => presence(i).data.label));

  const spot101 = (await api<{ firmwareVersion: string | null }>(c.url, '/api/spots/101')).body;
  const spot102 = (await api<{ firmwareVersion: string | null }>(c.url, '/api/spots/102')).body;
  t.is(spot101.firmwareVersion, '4.5.6');
  t.is(spot102.firmwareVersion, '7.8.9');

  // The central's broker: every event as JSON, and the PB spot's also in PB (the encoding came through).
  await consumer.waitFor((m) => m.filter((x) => x.topic.startsWith('from/101/json/')).length >= 25 && m.filter((x) => x.topic === 'from/102/pb').length >= 12, WAIT_MS, 'the central to publish');
  t.is(consumer.messages.filter((x) => x.topic === 'from/101/pb').length, 0, 'the JSON spot has no PB form at the central');
  const pbLabels = consumer.messages.filter((x) => x.topic === 'from/102/pb').map((x) => {
    const decoded = decodeFrame(x.payload);
    return decoded.ok ? decoded.event.data.label : null;
  });
  t.deepEqual(pbLabels, Array.from({ length: 12 }, (_, i) => presence(i).data.label));

  await waitFor(async () => ((await statusOf(s.url)).upstreams.spot_server?.lag === 0 ? true : undefined), WAIT_MS, 'the site to see its backlog gone');
  const up = (await statusOf(s.url)).upstreams.spot_server!;
  t.like(up, { state: 'connected', acked: 37, refused: 0, spotsHeld: 0, spotsWaiting: 0, spotsTracked: 2 });
  const metrics = (await api<string>(s.url, '/metrics')).body;
  t.regex(metrics, /spot_gateway_upstream_acked_total\{upstream="spot_server"\} 37/);
});

test('a command queued at the central gateway reaches the spot in a reply of the site gateway', async (t) => {
  const c = await central(t);
  const s = await site(t, c.url);
  t.is((await postJson(s, 201, 0, 2)).status, 200);
  await waitFor(async () => ((await eventsOf(c.url, 201)).length === 2 ? true : undefined), WAIT_MS, 'the events at the central');

  const queued = await api<{ id: number }>(c.url, '/api/spots/201/commands', { body: { resource: 'config', action: 'update', data: { hostname: 'dock-7' } } });
  t.is(queued.status, 202);

  // The spot posts on (nothing to forward): the site fetches the command, and the spot's next reply carries it.
  const reply = await waitFor(
    async () => {
      const answer = await postChunks(s.port, 201, [], { headers: JSON_EVENTS });
      const items = createJsonDecoder().push(answer.body);
      return items.length > 0 ? items : undefined;
    },
    WAIT_MS,
    'the command in a reply of the site',
  );
  t.deepEqual(reply.map((i) => (i.kind === 'event' ? [i.event.resource, i.event.action, i.event.data] : null)), [['config', 'update', { hostname: 'dock-7' }]]);
  const atCentral = (await api<Array<{ state: string }>>(c.url, '/api/spots/201/commands')).body;
  t.is(atCentral[0]?.state, 'delivered');
  const atSite = (await api<Array<{ state: string; source: string }>>(s.url, '/api/spots/201/commands')).body;
  t.like(atSite[0], { state: 'delivered', source: 'spot_server' });
});

test('the central stopped for a while: every event arrives once, none twice, in order; the site restarted meanwhile too', async (t) => {
  const centralDir = tempDir(t);
  let c = await central(t, {}, centralDir);
  const port = c.port;
  const siteDir = tempDir(t);
  let s = await site(t, c.url, {}, siteDir);
  t.is((await postJson(s, 301, 0, 10)).status, 200);
  await waitFor(async () => ((await eventsOf(c.url, 301)).length === 10 ? true : undefined), WAIT_MS, 'the first events at the central');

  await c.stop();
  for (let i = 10; i < 40; i += 6) t.is((await postJson(s, 301, i, 6)).status, 200);
  t.is((await postPb(s, 302, 0, 9)).status, 200);
  await waitFor(async () => ((await statusOf(s.url)).upstreams.spot_server?.state === 'down' ? true : undefined), WAIT_MS, 'the site to see the central down');
  const down = (await statusOf(s.url)).upstreams.spot_server!;
  t.regex(down.lastError ?? '', /ECONNREFUSED/);
  t.true(down.lag! >= 39);

  // The site restarts on its data dir while the central is away, then the central comes back on its port.
  await s.stop();
  s = await site(t, `http://127.0.0.1:${port}`, {}, siteDir);
  t.is((await postJson(s, 301, 40, 4)).status, 200);
  c = await central(t, { http: { port } }, centralDir);

  const all = await waitFor(async () => ((await eventsOf(c.url, 301)).length >= 44 ? eventsOf(c.url, 301) : undefined), WAIT_MS, 'every event at the central');
  await waitFor(async () => ((await eventsOf(c.url, 302)).length >= 9 ? true : undefined), WAIT_MS, 'the PB spot at the central');
  await waitFor(async () => ((await statusOf(s.url)).upstreams.spot_server?.lag === 0 ? true : undefined), WAIT_MS, 'the site backlog gone');
  t.deepEqual(labels(all), Array.from({ length: 44 }, (_, i) => presence(i).data.label), 'each once, in order');
  t.is((await eventsOf(c.url, 302)).length, 9);
});

test('posts answered 200 whose answer is lost are sent again and dropped as duplicates at the central (numbering from the site)', async (t) => {
  const c = await central(t);
  const s = await site(t, c.url);
  t.is((await postJson(s, 401, 0, 5)).status, 200);
  await waitFor(async () => ((await eventsOf(c.url, 401)).length === 5 ? true : undefined), WAIT_MS, 'the events at the central');
  // The site's numbering as the central stored it: a boot per post (from the site's event ids), seq 1.. in it.
  const numbering = c.running.store.numberingOf('401');
  t.truthy(numbering);
  t.is(numbering!.highSeq, 5);
  // A retransmission of that post (as after a lost 200) is dropped whole.
  const again = await postChunks(c.port, 401, [jsonText(Array.from({ length: 5 }, (_, k) => presence(k)))], {
    headers: { ...JSON_EVENTS, 'X-Spot-Boot': String(numbering!.boot), 'X-Spot-Seq': '1' },
  });
  t.is(again.status, 200);
  t.is((await eventsOf(c.url, 401)).length, 5);
});

test('MQTT and the spot server each keep their own cursor: one down does not hold the other', async (t) => {
  // A persistent session on a broker that keeps it: what the site publishes while the consumer reconnects after the broker's restart waits for it.
  const broker = await startMosquitto({ t, persistence: true });
  const consumer = await startConsumer(broker.url, ['from/+/json/#'], t, 'chain-consumer');
  const centralDir = tempDir(t);
  let c = await central(t, {}, centralDir);
  const port = c.port;
  const s = await site(t, c.url, { mqtt: { url: broker.url } });

  await c.stop();
  t.is((await postJson(s, 501, 0, 8)).status, 200);
  await consumer.waitFor((m) => m.length >= 8, WAIT_MS, 'the site to publish while the central is down');
  const status = (await statusOf(s.url)).upstreams;
  t.is(status.mqtt!.lag, 0);
  t.true(status.spot_server!.lag! >= 8);
  const listed = await eventsOf(s.url, 501);
  t.deepEqual(listed[0]!.forwarded, { mqtt: true, spot_server: false });
  t.regex(s.running.liveness.summary(), /; mqtt connected; spot_server (disconnected \(down \d+ s\)|connecting)$/, 'STATUS= names both upstreams');

  await broker.stop();
  c = await central(t, { http: { port } }, centralDir);
  t.is((await postJson(s, 501, 8, 4)).status, 200);
  await waitFor(async () => ((await eventsOf(c.url, 501)).length === 12 ? true : undefined), WAIT_MS, 'the central to get every event while the broker is down');
  const later = await waitFor(async () => {
    const u = (await statusOf(s.url)).upstreams;
    return u.spot_server?.lag === 0 ? u : undefined;
  }, WAIT_MS, 'the site to see the central take everything');
  t.true(later.mqtt!.lag! >= 4, 'MQTT still holds its backlog');
  t.regex(s.running.liveness.summary(), new RegExp(`backlog ${later.mqtt!.lag} events; mqtt (disconnected|connecting).*; spot_server connected$`), 'the backlog is the slowest upstream\'s');
  await broker.restart();
  await consumer.waitFor((m) => m.length >= 12, WAIT_MS, 'the broker to get the rest');
});

test('a central answering 401 shows in status and /healthz; nothing is lost once the token is fixed (reload)', async (t) => {
  const centralDir = tempDir(t);
  const seeded = await seedAuth(centralDir, { siteToken: true });
  const c = await central(t, { auth: { spots: 'token', max_failures_per_min: 1000 } }, centralDir);
  const s = await site(t, c.url, { spot_server: { token: 'not-the-token' }, mqtt: { degraded_after_s: 0.2 } });

  t.is((await postJson(s, 601, 0, 6)).status, 200);
  await waitFor(async () => ((await statusOf(s.url)).upstreams.spot_server?.state === 'down' ? true : undefined), WAIT_MS, 'the site to see the 401');
  const refused = (await statusOf(s.url)).upstreams.spot_server!;
  t.regex(refused.lastError ?? '', /answered 401/);
  const health = await waitFor(async () => {
    const h = (await api<{ status: string; reason: string | null }>(s.url, '/healthz')).body;
    return h.status === 'degraded' ? h : undefined;
  }, WAIT_MS, '/healthz degraded');
  t.regex(health.reason ?? '', /upstream spot_server without a connection/);
  t.is((await eventsOf(c.url, 601)).length, 0);

  // SIGHUP reads spot_server.token again (config/reload.ts); here the same call, in process.
  await s.running.applyLive({ ...s.config, spot_server: { ...s.config.spot_server, token: seeded.site!.token } }, false);
  t.is((await postJson(s, 601, 6, 2)).status, 200);
  const all = await waitFor(async () => ((await eventsOf(c.url, 601)).length >= 8 ? eventsOf(c.url, 601) : undefined), WAIT_MS, 'the events once the token is right');
  t.deepEqual(labels(all), Array.from({ length: 8 }, (_, i) => presence(i).data.label));
  t.is((await statusOf(s.url)).upstreams.spot_server!.state, 'connected');
});

test('events in one post are split where the spot changed its encoding', async (t) => {
  const c = await central(t);
  const s = await site(t, c.url);
  t.is((await postJson(s, 701, 0, 3)).status, 200);
  t.is((await postPb(s, 701, 3, 3)).status, 200);
  const all = await waitFor(async () => ((await eventsOf(c.url, 701)).length >= 6 ? eventsOf(c.url, 701) : undefined), WAIT_MS, 'both encodings at the central');
  t.deepEqual(labels(all), Array.from({ length: 6 }, (_, i) => presence(i).data.label));
});

test('the site killed (SIGKILL) in the middle of forwarding: after its restart every event is at the central once, in order', async (t) => {
  // The central is away while the site takes the events, so the kill lands early in the forwarding.
  const centralDir = tempDir(t);
  let c = await central(t, {}, centralDir);
  const port = c.port;
  await c.stop();
  const siteDir = tempDir(t);
  const env = {
    SPOT_GATEWAY_DATA_DIR: siteDir,
    SPOT_GATEWAY_GATEWAY_ID: 'site',
    SPOT_GATEWAY_SPOT_SERVER_URL: c.url,
    SPOT_GATEWAY_SPOT_SERVER_MAX_EVENTS_PER_POST: '3',
  };
  let s = await spawnGateway(t, { env });
  const spots = [801, 802, 803, 804];
  const perSpot = 400;
  for (let from = 0; from < perSpot; from += 50) {
    for (const spot of spots) {
      const events = Array.from({ length: 50 }, (_, k) => presence(from + k));
      const answer = await postChunks(s.port, spot, [jsonText(events)], { headers: { ...JSON_EVENTS, 'X-Spot-Boot': '1', 'X-Spot-Seq': String(from + 1) } });
      t.is(answer.status, 200);
    }
  }
  const total = spots.length * perSpot;
  c = await central(t, { http: { port } }, centralDir);
  const atKill = await waitFor(() => {
    const n = c.running.store.status().events;
    return n >= 60 ? n : undefined;
  }, WAIT_MS, 'the central to have some of the events', 2);
  t.is(await s.kill('SIGKILL'), 'SIGKILL');
  t.true(atKill < total, `killed before the end (${atKill} of ${total} at the central)`);

  s = await spawnGateway(t, { env });
  await waitFor(() => (c.running.store.status().events >= total ? true : undefined), 60000, () => `all ${total} events at the central (${c.running.store.status().events})`);
  await waitFor(async () => ((await statusOf(s.url)).upstreams.spot_server?.lag === 0 ? true : undefined), WAIT_MS, 'the site backlog gone');
  t.is(c.running.store.status().events, total, 'none twice');
  t.log(`at kill: ${atKill}; retransmitted events the central dropped: ${c.running.store.status().duplicates}`);
  for (const spot of spots) {
    t.deepEqual(labels(await eventsOf(c.url, spot)), Array.from({ length: perSpot }, (_, i) => presence(i).data.label), `spot ${spot}: each once, in order`);
  }
});

test('the site as a service: a wrong token fixed in its file and SIGHUP, the events it held reach the central', async (t) => {
  const centralDir = tempDir(t);
  const seeded = await seedAuth(centralDir, { siteToken: true });
  const c = await central(t, { auth: { spots: 'token', max_failures_per_min: 1000 } }, centralDir);
  const siteDir = tempDir(t);
  const file = path.join(siteDir, 'gateway.yaml');
  const write = (token: string): void => writeFileSync(file, `data_dir: ${siteDir}\nspot_server:\n  url: ${c.url}\n  token: "${token}"\n`);
  write('wrong');
  const s = await spawnGateway(t, { args: ['run', '--config', file] });
  t.is((await postJson(s, 901, 0, 5)).status, 200);
  await waitFor(async () => ((await statusOf(s.url)).upstreams.spot_server?.lastError?.includes('answered 401') ? true : undefined), WAIT_MS, 'the 401 in the site status');
  t.is((await eventsOf(c.url, 901)).length, 0);

  write(seeded.site!.token);
  s.child.kill('SIGHUP');
  const all = await waitFor(async () => ((await eventsOf(c.url, 901)).length >= 5 ? eventsOf(c.url, 901) : undefined), WAIT_MS, 'the events after the reload');
  t.deepEqual(labels(all), Array.from({ length: 5 }, (_, i) => presence(i).data.label));
  const reload = s.stdout().split('\n').find((line) => line.includes('spot_server.token'));
  t.truthy(reload, 'the reload names the key');
  t.false(reload!.includes(seeded.site!.token), 'and hides its value');
});
