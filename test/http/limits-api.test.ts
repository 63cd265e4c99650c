// limits.api_requests_per_s: a bucket per API client (API key, session, else address); over it 429 with
// Retry-After, counted; spot posts, /metrics and /healthz are not API requests (docs/limits.md).
import test from 'ava';
import { defaultConfig } from '../../gateway/src/config/index.js';
import { api, JSON_EVENTS, postChunks, startTestGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { metric, parseAnswer, RawClient } from '../helpers/raw-client.js';
import { login, seedAuth } from '../auth/http.js';
import { jsonText, presence } from './events.js';

type Refusal = { error: string; reason: string };

// Half a token a second: a refill every 2 s, far longer than the few requests between them take.
const SLOW = { api_requests_per_s: 0.5, api_requests_burst: 3 };

test('over its burst a client is answered 429 with Retry-After and the reason, counted; spots, /metrics and /healthz go on; later it is served again', async (t) => {
  const gw = await startTestGateway(t, { config: { limits: SLOW } });
  for (let i = 0; i < 3; i++) t.is((await api(gw.url, '/api/status')).status, 200, `request ${i + 1} of the burst`);
  const refused = await api<Refusal>(gw.url, '/api/spots');
  t.is(refused.status, 429);
  const retry = Number(refused.headers.get('retry-after'));
  t.true(retry >= 1 && retry <= 2, `Retry-After ${retry}`);
  t.is(refused.body.error, 'too many requests');
  t.regex(refused.body.reason, /^127\.0\.0\.1: over limits\.api_requests_per_s \(0\.5 a second, bursts of 3\); try again in [12] s$/);

  t.is((await postChunks(gw.port, 61, [jsonText([presence(1)])], { headers: JSON_EVENTS })).status, 200, 'a spot post is not an API request');
  t.is((await api(gw.url, '/healthz')).status, 200);
  const text = (await api<string>(gw.url, '/metrics')).body;
  t.is(metric(text, 'spot_gateway_api_rate_limited_total'), 1);

  // Polled every 200 ms: each refusal takes nothing from the bucket.
  const served = await waitFor(async () => ((await api(gw.url, '/api/spots/61')).status === 200 ? true : undefined), 10000, 'an API request served again', 200);
  t.true(served);
});

test('the rate is per client: another address has its own bucket; a reload changes the rate at once', async (t) => {
  const gw = await startTestGateway(t, { config: { limits: SLOW } });
  for (let i = 0; i < 3; i++) await api(gw.url, '/api/status');
  t.is((await api(gw.url, '/api/status')).status, 429);
  const other = new RawClient(gw.port, '127.0.0.2');
  t.teardown(() => other.close());
  await other.ready();
  other.write('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  t.is(parseAnswer(await other.whenClosed(10000, 'the answer to 127.0.0.2')).status, 200, 'another address is served');

  await gw.running.applyLive(defaultConfig({ ...gw.config, limits: { ...gw.config.limits, api_requests_per_s: 0 } }), false);
  for (let i = 0; i < 10; i++) t.is((await api(gw.url, '/api/status')).status, 200, 'no limit after the reload');
});

test.serial('with auth.api on, an API key and a session each have their own bucket, whatever their address', async (t) => {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, { users: [['ann', 'admin', 'admin password 1']], keys: [['one', 'viewer'], ['two', 'viewer']] });
  const gw = await startTestGateway(t, { dataDir, config: { auth: { api: 'on' }, limits: SLOW } });
  const [one, two] = [seeded.keys[0]!.key, seeded.keys[1]!.key];
  for (let i = 0; i < 3; i++) t.is((await api(gw.url, '/api/spots', { headers: { 'x-api-key': one } })).status, 200);
  const refused = await api<Refusal>(gw.url, '/api/spots', { headers: { 'x-api-key': one } });
  t.is(refused.status, 429);
  t.regex(refused.body.reason, /^API key one: over limits\.api_requests_per_s/);
  t.is((await api(gw.url, '/api/spots', { headers: { 'x-api-key': two } })).status, 200, 'another key from the same address');

  // The login itself counts against the address; the session then has its own bucket.
  const session = await login(gw.url, 'ann', 'admin password 1');
  for (let i = 0; i < 3; i++) t.is((await api(gw.url, '/api/spots', { headers: { cookie: session.cookie } })).status, 200);
  const sessionRefused = await api<Refusal>(gw.url, '/api/spots', { headers: { cookie: session.cookie } });
  t.is(sessionRefused.status, 429);
  t.regex(sessionRefused.body.reason, /^the session of user ann: over limits\.api_requests_per_s/);
});

test('an API request whose body stays silent for http.idle_timeout_ms is answered 408 and closed, counted', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { idle_timeout_ms: 300 } } });
  const client = new RawClient(gw.port);
  t.teardown(() => client.close());
  await client.ready();
  client.write('POST /api/spots/9/commands HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"resource":');
  const answer = parseAnswer(await client.whenClosed(10000, 'the silent body cut off'));
  t.is(answer.status, 408);
  t.regex(JSON.parse(answer.body).reason, /^request body silent for 300 ms \(http\.idle_timeout_ms\); nothing of it was acted on$/);
  const text = (await api<string>(gw.url, '/metrics')).body;
  t.is(metric(text, 'spot_gateway_request_timeouts_total{phase="body"}'), 1);
  const { body: commands } = await api<unknown[]>(gw.url, '/api/spots/9/commands');
  t.deepEqual(commands, [], 'nothing queued');
});

test('a slow API body that keeps sending within http.idle_timeout_ms is read whole', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { idle_timeout_ms: 600 } } });
  const body = JSON.stringify({ resource: 'config', action: 'update', data: { rfid_power_dbm: 12 } });
  const client = new RawClient(gw.port);
  t.teardown(() => client.close());
  await client.ready();
  client.write(`POST /api/spots/9/commands HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  // Four pieces 250 ms apart: 1 s in all, longer than the idle bound, never silent as long.
  for (let i = 0; i < 4; i++) {
    client.write(body.slice((i * body.length) / 4, ((i + 1) * body.length) / 4));
    // The pace of the slow client the test is about.
    await new Promise((r) => setTimeout(r, 250));
  }
  t.is(parseAnswer(await client.whenClosed(10000, 'the answer to the slow body')).status, 202);
});
