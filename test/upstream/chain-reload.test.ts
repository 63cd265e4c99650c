// Chained gateways, reloaded and looped (docs/chaining.md): spot_server.url changed by SIGHUP goes on
// from the cursors, and a gateway whose spot_server.url leads back to itself refuses its own posts and
// says why. Real gateway processes, real sockets, real SQLite files, a real SIGHUP.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { api, JSON_EVENTS, jsonLogLines, postChunks, SpotConnection, spawnGateway, startTestGateway, tempDir, waitFor, type ChildGateway, type Teardown } from '../helpers/gateway.js';
import { jsonText, presence } from '../http/events.js';

type Upstream = { state: string; lag: number | null; lastError: string | null; spotsTracked?: number };
type Status = { gateway: { instanceId: string }; upstreams: Record<string, Upstream>; ingest: { posts: number } };
type Health = { status: string; reason: string | null };

const WAIT_MS = 20000;

async function labelsOf(url: string, spot: number): Promise<unknown[]> {
  return (await api<Array<{ data: { label: unknown } }>>(url, `/api/events?spot=${spot}&limit=10000`)).body.map((e) => e.data.label);
}

const upstreamOf = async (url: string): Promise<Upstream | undefined> => (await api<Status>(url, '/api/status')).body.upstreams.spot_server;

function post(gw: { port: number }, serial: number, from: number, n: number): Promise<{ status: number }> {
  const events = Array.from({ length: n }, (_, k) => presence(from + k));
  return postChunks(gw.port, serial, [jsonText(events)], { headers: { ...JSON_EVENTS, 'X-Spot-Boot': '1', 'X-Spot-Seq': String(from + 1) } });
}

const range = (from: number, n: number): unknown[] => Array.from({ length: n }, (_, i) => presence(from + i).data.label);

/** The site as a service on a config file; `point(url)` rewrites the file's spot_server.url. */
async function siteService(t: Teardown, firstUrl: string): Promise<{ gw: ChildGateway; point: (url: string) => void }> {
  const dir = tempDir(t);
  const file = path.join(dir, 'gateway.yaml');
  const point = (url: string): void => writeFileSync(file, `data_dir: ${dir}\nspot_server:\n  url: ${url}\n  poll_after_s: 0.05\n  max_events_per_post: 4\n`);
  point(firstUrl);
  const gw = await spawnGateway(t, { args: ['run', '--config', file] });
  return { gw, point };
}

/** Waits for the reload's log line that names the key, and for the new forwarder. */
async function reloaded(gw: ChildGateway, count: number): Promise<void> {
  await waitFor(() => (jsonLogLines<{ msg?: string }>(gw).filter((l) => l.msg === 'spot server: upstream restarted with the reloaded configuration').length >= count ? true : undefined), WAIT_MS, `reload ${count} of the spot server`);
}

test('spot_server.url changed in the file and SIGHUP: the site goes on to the new central from its cursors, nothing sent twice', async (t) => {
  const a = await startTestGateway(t, { config: { gateway: { id: 'central-a' } } });
  const b = await startTestGateway(t, { config: { gateway: { id: 'central-b' } } });
  const { gw: s, point } = await siteService(t, a.url);

  t.is((await post(s, 701, 0, 6)).status, 200);
  await waitFor(async () => ((await labelsOf(a.url, 701)).length >= 6 ? true : undefined), WAIT_MS, 'the first events at central a');
  await waitFor(async () => ((await upstreamOf(s.url))?.lag === 0 ? true : undefined), WAIT_MS, 'the site backlog gone');

  // Central a goes away: what the site takes now waits above its cursor.
  await a.stop();
  t.is((await post(s, 701, 6, 5)).status, 200);
  t.is((await post(s, 702, 0, 3)).status, 200);
  await waitFor(async () => ((await upstreamOf(s.url))?.state === 'down' ? true : undefined), WAIT_MS, 'the site to see central a down');

  point(b.url);
  s.child.kill('SIGHUP');
  await reloaded(s, 1);
  const reload = jsonLogLines<{ msg?: string }>(s).find((l) => l.msg?.startsWith('reload: applied spot_server.url='));
  t.truthy(reload, 'the reload names the key, applied');
  await waitFor(async () => ((await labelsOf(b.url, 702)).length >= 3 ? true : undefined), WAIT_MS, 'spot 702 at central b');
  await waitFor(async () => ((await labelsOf(b.url, 701)).length >= 5 ? true : undefined), WAIT_MS, 'the held events of spot 701 at central b');
  t.is((await post(s, 701, 11, 2)).status, 200, 'and new ones go there too');
  await waitFor(async () => ((await labelsOf(b.url, 701)).length >= 7 ? true : undefined), WAIT_MS, 'the new events at central b');
  await waitFor(async () => ((await upstreamOf(s.url))?.lag === 0 ? true : undefined), WAIT_MS, 'the site backlog gone again');

  t.deepEqual(await labelsOf(b.url, 701), range(6, 7), 'central b: only what central a had not taken, in order');
  t.deepEqual(await labelsOf(b.url, 702), range(0, 3));
  const upstream = await upstreamOf(s.url);
  t.is(upstream?.state, 'connected');
  t.is(await s.kill('SIGTERM'), 0);
});

test('a gateway whose spot_server.url leads back to itself (by another name) refuses its own posts: 508, /api/status, /healthz and the log say why; fixed by SIGHUP', async (t) => {
  // Port 1 on loopback: nothing listens, the upstream is only down until the file names itself.
  const { gw: s, point } = await siteService(t, 'http://127.0.0.1:1');
  t.is((await post(s, 601, 0, 5)).status, 200);
  const self = `http://localhost:${s.port}/`;
  point(self);
  s.child.kill('SIGHUP');
  await reloaded(s, 1);

  const looped = await waitFor(async () => {
    const u = await upstreamOf(s.url);
    return u?.state === 'looped' ? u : undefined;
  }, WAIT_MS, 'the upstream to be seen looped');
  const { instanceId } = (await api<Status>(s.url, '/api/status')).body.gateway;
  t.regex(looped.lastError ?? '', /^spot_server\.url http:\/\/localhost:\d+\/ leads back to this gateway itself \(instance [0-9a-f-]+; it answered 508: .*loop detected.*\): a gateway cannot forward to itself/);
  t.true(looped.lastError!.includes(instanceId));
  const health = (await api<Health>(s.url, '/healthz')).body;
  t.is(health.status, 'degraded', 'at once, not after mqtt.degraded_after_s');
  t.true(health.reason?.includes(`upstream spot_server: spot_server.url ${self} leads back to this gateway itself`), health.reason ?? '');
  const logged = jsonLogLines<{ level: number; msg?: string }>(s).filter((l) => l.msg?.includes('leads back to this gateway itself'));
  t.true(logged.length >= 1 && logged.every((l) => l.level === 50), 'an error line');
  // Its own post refused before the body was read: the spot's events are there once.
  // One write: the gateway answers after the headers, and a later write could meet the closed socket.
  const conn = new SpotConnection(s.port);
  t.teardown(() => conn.close());
  const body = jsonText([presence(99)]);
  const head = ['POST /api/spots/601/events/ HTTP/1.1', 'Host: 127.0.0.1', 'Transfer-Encoding: chunked', 'Content-Type: text/x-intellifi-events', `X-Spot-Gateway-Instance: ${instanceId}`];
  await conn.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n${Buffer.byteLength(body).toString(16)}\r\n`), Buffer.from(body), Buffer.from('\r\n0\r\n\r\n')]));
  t.is((await conn.response()).status, 508);
  t.deepEqual(await labelsOf(s.url, 601), range(0, 5));

  // Pointed at a real central: the events go, and the health is ok again.
  const c = await startTestGateway(t, { config: { gateway: { id: 'central' } } });
  point(c.url);
  s.child.kill('SIGHUP');
  await reloaded(s, 2);
  await waitFor(async () => ((await labelsOf(c.url, 601)).length >= 5 ? true : undefined), WAIT_MS, 'the events at the central');
  t.deepEqual(await labelsOf(c.url, 601), range(0, 5));
  await waitFor(async () => ((await api<Health>(s.url, '/healthz')).body.status === 'ok' ? true : undefined), WAIT_MS, 'the site healthy again');
  t.is(await s.kill('SIGTERM'), 0);
});
