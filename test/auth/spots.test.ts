// Spot posts with auth.spots token (missing, wrong, revoked, foreign tokens; rate limit) and the numbering bound with off.
import test from 'ava';
import { createPbEncoder } from '../../gateway/src/protocol/index.js';
import { openAuthDb } from '../../gateway/src/auth/auth-db.js';
import { SpotTokens } from '../../gateway/src/auth/spot-tokens.js';
import { JSON_EVENTS, PB_EVENTS, postChunks, startTestGateway, tempDir, type RawResponse } from '../helpers/gateway.js';
import { jsonText, presence } from '../http/events.js';
import { metricValue, postOnce, request, seedAuth } from './http.js';

type Health = { status: string; auth: { spots: string; api: string; users: number; open: string[] } };

const body = (n: number, from = 0): string => jsonText(Array.from({ length: n }, (_, i) => presence(from + i)));

function post(port: number, serial: number, options: { token?: string; boot?: number; seq?: number; events?: number } = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...JSON_EVENTS };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  if (options.boot !== undefined) headers['X-Spot-Boot'] = String(options.boot);
  if (options.seq !== undefined) headers['X-Spot-Seq'] = String(options.seq);
  return postOnce(port, serial, body(options.events ?? 2), headers);
}

async function storedCount(url: string, serial: number): Promise<number> {
  return ((await request<unknown[]>(`${url}/api/events?spot=${serial}&limit=10000`)).body).length;
}

test('auth.spots token: a post without a token, with an unknown one, or a revoked one gets 401 and stores nothing; counted per spot', async (t) => {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, { siteToken: true });
  const gw = await startTestGateway(t, { dataDir, config: { auth: { spots: 'token' } } });
  const site = seeded.site!;

  const missing = await post(gw.port, 11);
  t.is(missing.status, 401);
  t.is(missing.headers['www-authenticate'], 'Bearer realm="spot-gateway"');
  t.regex(JSON.parse(missing.body.toString()).reason, /spot 11: no Authorization: Bearer token/);

  const wrong = await post(gw.port, 11, { token: `${site.token.slice(0, -2)}xx` });
  t.is(wrong.status, 401);
  t.regex(JSON.parse(wrong.body.toString()).reason, /unknown token/);

  t.is((await post(gw.port, 11, { token: site.token })).status, 200, 'the site token is accepted');
  t.is(await storedCount(gw.url, 11), 2, 'only the authenticated post was stored');

  // Revoked while the gateway runs, from another connection to auth.db (as the CLI does).
  const db = openAuthDb(dataDir);
  t.true(new SpotTokens(db).revoke(site.id));
  db.close();
  const revoked = await post(gw.port, 11, { token: site.token });
  t.is(revoked.status, 401);
  t.regex(JSON.parse(revoked.body.toString()).reason, /token revoked/);
  t.is(await storedCount(gw.url, 11), 2);

  const metrics = (await request<string>(`${gw.url}/metrics`)).body;
  t.is(metricValue(metrics, 'spot_gateway_spot_auth_failures_total{spot="11"}'), 3);
});

test('auth.spots token: a per-spot token posts for its serial only, and its serial no longer takes the site token', async (t) => {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, { siteToken: true, spotTokens: ['21'] });
  const gw = await startTestGateway(t, { dataDir, config: { auth: { spots: 'token' } } });
  const own = seeded.perSpot.get('21')!.token;

  t.is((await post(gw.port, 21, { token: own })).status, 200);
  const foreign = await post(gw.port, 22, { token: own });
  t.is(foreign.status, 401);
  t.regex(JSON.parse(foreign.body.toString()).reason, /token of another spot, not of 22/);
  const siteForOwn = await post(gw.port, 21, { token: seeded.site!.token });
  t.is(siteForOwn.status, 401);
  t.regex(JSON.parse(siteForOwn.body.toString()).reason, /spot 21 has a token of its own/);
  t.is((await post(gw.port, 22, { token: seeded.site!.token })).status, 200, 'a serial without a token of its own takes the site token');
});

test('auth.spots token: failed authentications from one address past auth.max_failures_per_min are answered 429 with Retry-After, even with a good token', async (t) => {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, { siteToken: true });
  const gw = await startTestGateway(t, { dataDir, config: { auth: { spots: 'token', max_failures_per_min: 3 } } });
  for (let i = 0; i < 3; i++) t.is((await post(gw.port, 31, { token: 'sgt_wrong' })).status, 401);
  const limited = await post(gw.port, 31, { token: seeded.site!.token });
  t.is(limited.status, 429);
  t.true(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60);
  t.regex(JSON.parse(limited.body.toString()).reason, /too many failed authentications from 127\.0\.0\.1/);
  const metrics = (await request<string>(`${gw.url}/metrics`)).body;
  t.is(metricValue(metrics, 'spot_gateway_auth_rate_limited_total'), 1);
});

test('auth.spots off: a post whose numbering starts more than auth.numbering_max_ahead ahead is refused 409, counted, and the real spot is not silenced', async (t) => {
  const gw = await startTestGateway(t, { config: { auth: { numbering_max_ahead: 100 } } });
  t.is((await post(gw.port, 41, { boot: 7, seq: 1, events: 3 })).status, 200);
  const spoof = await post(gw.port, 41, { boot: 7, seq: 1_000_000 });
  t.is(spoof.status, 409);
  t.regex(JSON.parse(spoof.body.toString()).reason, /boot 7 seq 1000000 is more than auth.numbering_max_ahead \(100\) ahead of the stored seq 3 of boot 7/);
  t.is((await post(gw.port, 41, { boot: 7, seq: 104 })).status, 409, 'one past the bound');
  const real = await post(gw.port, 41, { boot: 7, seq: 4, events: 2 });
  t.is(real.status, 200);
  t.is(await storedCount(gw.url, 41), 5, "the spot's next events are stored, not taken for duplicates");
  t.is((await post(gw.port, 41, { boot: 7, seq: 105 })).status, 200, 'exactly the bound ahead of the new high seq (5) is accepted');

  const otherBoot = await post(gw.port, 41, { boot: 8, seq: 101 });
  t.is(otherBoot.status, 409);
  t.regex(JSON.parse(otherBoot.body.toString()).reason, /a boot other than the stored 7 starts a fresh count/);
  t.is((await post(gw.port, 41, { boot: 8, seq: 1 })).status, 200, 'a new boot counting from 1 is accepted');
  t.is((await post(gw.port, 42, { boot: 3, seq: 5_000_000 })).status, 200, 'a spot without stored numbering is not bounded');

  const metrics = (await request<string>(`${gw.url}/metrics`)).body;
  t.is(metricValue(metrics, 'spot_gateway_posts_refused_numbering_total'), 3);
});

test("auth.spots off: a PB frame carrying its own numbering beyond the bound is rejected with the reason; the post's other frames are stored", async (t) => {
  const gw = await startTestGateway(t, { config: { auth: { numbering_max_ahead: 10 } } });
  t.is((await post(gw.port, 51, { boot: 2, seq: 1, events: 1 })).status, 200);
  const enc = createPbEncoder();
  const frames = Buffer.concat([enc.encode({ ...presence(1), boot: 2, seq: 2 }), enc.encode({ ...presence(2), boot: 2, seq: 900 }), enc.encode({ ...presence(3), boot: 2, seq: 3 })]);
  const res = await postChunks(gw.port, 51, [frames], { headers: PB_EVENTS });
  t.is(res.status, 200);
  t.is(await storedCount(gw.url, 51), 3);
  const rejected = (await request<Array<{ reason: string }>>(`${gw.url}/api/rejected?spot=51`)).body;
  t.is(rejected.length, 1);
  t.regex(rejected[0]!.reason, /boot 2 seq 900 is more than auth.numbering_max_ahead \(10\) ahead/);
});

test('auth.spots token: no numbering bound, the spot alone moves its numbering; /healthz says which mode is on', async (t) => {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, { siteToken: true });
  const gw = await startTestGateway(t, { dataDir, config: { auth: { spots: 'token', numbering_max_ahead: 10 } } });
  const token = seeded.site!.token;
  t.is((await post(gw.port, 61, { token, boot: 1, seq: 1 })).status, 200);
  t.is((await post(gw.port, 61, { token, boot: 1, seq: 5000 })).status, 200);
  const health = (await request<Health>(`${gw.url}/healthz`)).body;
  t.like(health, { status: 'ok', auth: { spots: 'token', api: 'off', users: 0 } });
  t.true(health.auth.open.some((s) => /auth.api: off/.test(s)));
  t.false(health.auth.open.some((s) => /auth.spots: off/.test(s)));

  const open = await startTestGateway(t);
  const openHealth = (await request<Health>(`${open.url}/healthz`)).body;
  t.like(openHealth, { auth: { spots: 'off' } });
  t.true(openHealth.auth.open.some((s) => /spot posts are not authenticated \(auth.spots: off\)/.test(s)));
});
