// The API with auth.api on: first start, roles, sessions (login, logout, idle and absolute ends), API keys, CSRF, the login rate limit.
// Serial: password hashes run one at a time in the process (auth/passwords.ts), so concurrent tests would wait on each other's.
import test from 'ava';
import { needOf, ROUTE_NEEDS } from '../../gateway/src/auth/route-roles.js';
import { openAuthDb } from '../../gateway/src/auth/auth-db.js';
import { ApiKeys } from '../../gateway/src/auth/api-keys.js';
import { startTestGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { login, request, seedAuth } from './http.js';

const COMMAND = { resource: 'config', action: 'update', data: { rfid_power_dbm: 12 } };
const ADMIN_PW = 'admin password 1';
const VIEWER_PW = 'viewer password 1';
type Refusal = { error: string; reason: string };

async function gatewayWithUsers(t: Parameters<typeof startTestGateway>[0], auth: Record<string, number> = {}) {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, {
    users: [
      ['ann', 'admin', ADMIN_PW],
      ['vic', 'viewer', VIEWER_PW],
    ],
    keys: [
      ['prometheus', 'viewer'],
      ['integration', 'admin'],
    ],
  });
  const gw = await startTestGateway(t, { dataDir, config: { auth: { api: 'on', ...auth } } });
  return { gw, dataDir, viewerKey: seeded.keys[0]!, adminKey: seeded.keys[1]! };
}

test.serial('first start (auth.api on, no user): reads open, every change refused 403 naming `user add`; /healthz and the session route say so', async (t) => {
  const gw = await startTestGateway(t, { config: { auth: { api: 'on' } } });
  t.is((await request(`${gw.url}/api/spots`)).status, 200);
  const refused = await request<Refusal>(`${gw.url}/api/spots/9/commands`, { body: COMMAND });
  t.is(refused.status, 403);
  t.regex(refused.body.reason, /no user exists: create an admin on the gateway host with `spot-gateway user add NAME --role admin`/);
  t.is((await request(`${gw.url}/api/quarantine/1`, { method: 'DELETE' })).status, 403);
  const session = await request<{ auth: { users: number; open: string[] }; user: null }>(`${gw.url}/api/auth/session`);
  t.is(session.body.user, null);
  t.is(session.body.auth.users, 0);
  t.true(session.body.auth.open.some((s) => /no user exists: reads are open to anyone and changes are refused/.test(s)));
});

test.serial('with a user: no credentials get 401 on every route but the open ones; /healthz and the dashboard stay open', async (t) => {
  const { gw } = await gatewayWithUsers(t);
  for (const path of ['/api/spots', '/api/events', '/api/status', '/metrics', '/api/live', '/api/openapi.json', '/api/spots/9/commands']) {
    const res = await request<Refusal>(`${gw.url}${path}`);
    t.is(res.status, 401, path);
    t.regex(res.body.reason, /needs role viewer: log in/, path);
  }
  const post = await request<Refusal>(`${gw.url}/api/spots/9/commands`, { body: COMMAND });
  t.is(post.status, 401);
  t.regex(post.body.reason, /needs role admin/);
  t.is((await request(`${gw.url}/healthz`)).status, 200);
  t.is((await request(`${gw.url}/`)).status, 200);
  t.is((await request(`${gw.url}/dashboard/js/app.js`)).status, 200);
});

test.serial('sessions: a wrong password is 401; the cookie is HttpOnly, SameSite=Strict, not Secure over plain HTTP; a viewer reads but may not queue a command (403)', async (t) => {
  const { gw } = await gatewayWithUsers(t);
  const wrong = await request<Refusal>(`${gw.url}/api/auth/login`, { body: { user: 'vic', password: 'not the password' } });
  t.is(wrong.status, 401);
  t.is((await request(`${gw.url}/api/auth/login`, { body: { user: 'nobody', password: VIEWER_PW } })).status, 401, 'unknown user');
  t.is((await request(`${gw.url}/api/auth/login`, { body: { user: 'vic' } })).status, 400, 'no password');

  const vic = await login(gw.url, 'vic', VIEWER_PW);
  t.regex(vic.setCookie, /^sg_session=sgs_[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
  t.is((await request(`${gw.url}/api/spots`, { headers: { cookie: vic.cookie } })).status, 200);
  const me = await request<{ user: string; role: string; csrf: string }>(`${gw.url}/api/auth/session`, { headers: { cookie: vic.cookie } });
  t.like(me.body, { user: 'vic', role: 'viewer', csrf: vic.csrf });
  const denied = await request<Refusal>(`${gw.url}/api/spots/9/commands`, { body: COMMAND, headers: { cookie: vic.cookie, 'x-csrf-token': vic.csrf } });
  t.is(denied.status, 403);
  t.regex(denied.body.reason, /needs role admin; user vic has role viewer/);
});

test.serial('CSRF: a change made with the admin cookie needs X-CSRF-Token from its own session; API keys need none', async (t) => {
  const { gw, adminKey } = await gatewayWithUsers(t);
  const ann = await login(gw.url, 'ann', ADMIN_PW);
  const other = await login(gw.url, 'ann', ADMIN_PW);
  const without = await request<Refusal>(`${gw.url}/api/spots/9/commands`, { body: COMMAND, headers: { cookie: ann.cookie } });
  t.is(without.status, 403);
  t.regex(without.body.reason, /missing or wrong X-CSRF-Token/);
  t.is((await request(`${gw.url}/api/spots/9/commands`, { body: COMMAND, headers: { cookie: ann.cookie, 'x-csrf-token': other.csrf } })).status, 403, "another session's token");
  t.is((await request(`${gw.url}/api/spots/9/commands`, { body: COMMAND, headers: { cookie: ann.cookie, 'x-csrf-token': ann.csrf } })).status, 202);
  t.is((await request(`${gw.url}/api/spots/9/commands`, { body: COMMAND, headers: { 'x-api-key': adminKey.key } })).status, 202);
  const listed = await request<unknown[]>(`${gw.url}/api/spots/9/commands`, { headers: { cookie: ann.cookie } });
  t.is(listed.body.length, 2, 'exactly the two accepted commands were queued');
});

test.serial('logout ends the session at once (its cookie gets 401 after); logout itself needs the CSRF token', async (t) => {
  const { gw, adminKey } = await gatewayWithUsers(t);
  const vic = await login(gw.url, 'vic', VIEWER_PW);
  t.is((await request(`${gw.url}/api/auth/logout`, { method: 'POST', headers: { cookie: vic.cookie } })).status, 403);
  const out = await request(`${gw.url}/api/auth/logout`, { method: 'POST', headers: { cookie: vic.cookie, 'x-csrf-token': vic.csrf } });
  t.is(out.status, 204);
  t.regex(out.headers.get('set-cookie') ?? '', /^sg_session=; .*Max-Age=0/);
  const after = await request<Refusal>(`${gw.url}/api/spots`, { headers: { cookie: vic.cookie } });
  t.is(after.status, 401);
  t.regex(after.body.reason, /session unknown or ended/);
  const keyLogout = await request<Refusal>(`${gw.url}/api/auth/logout`, { method: 'POST', headers: { 'x-api-key': adminKey.key } });
  t.is(keyLogout.status, 401, 'an API key has no session to end');
  t.regex(keyLogout.body.reason, /needs a logged-in session/);
});

test.serial('an idle session ends after auth.session_idle_s; a busy one after auth.session_max_s', async (t) => {
  const idle = await gatewayWithUsers(t, { session_idle_s: 1, session_max_s: 3600 });
  const vic = await login(idle.gw.url, 'vic', VIEWER_PW);
  t.is((await request(`${idle.gw.url}/api/spots`, { headers: { cookie: vic.cookie } })).status, 200);
  // Polled every 20 ms (not idle in between would keep it alive): so wait without requests, bounded, then check once.
  const loggedAt = Date.now();
  await waitFor(() => Date.now() - loggedAt > 1100, 5000, 'the idle time to pass');
  t.is((await request(`${idle.gw.url}/api/spots`, { headers: { cookie: vic.cookie } })).status, 401);

  const busy = await gatewayWithUsers(t, { session_idle_s: 1, session_max_s: 2 });
  const before = Date.now();
  const ann = await login(busy.gw.url, 'ann', ADMIN_PW);
  // Requests every 20 ms keep it from being idle (1 s); it still ends 2 s after the login.
  const ended = await waitFor(async () => ((await request(`${busy.gw.url}/api/spots`, { headers: { cookie: ann.cookie } })).status === 401 ? Date.now() : undefined), 10000, 'the session to end');
  t.true(ended - before >= 2000, `ended ${ended - before} ms after the login`);
});

test.serial('API keys: X-API-Key or Bearer; a viewer key reads, cannot change (403); revoked and unknown keys get 401', async (t) => {
  const { gw, dataDir, viewerKey } = await gatewayWithUsers(t);
  t.is((await request(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${viewerKey.key}` } })).status, 200);
  t.is((await request(`${gw.url}/api/spots`, { headers: { 'x-api-key': viewerKey.key } })).status, 200);
  const denied = await request<Refusal>(`${gw.url}/api/spots/9/commands`, { body: COMMAND, headers: { 'x-api-key': viewerKey.key } });
  t.is(denied.status, 403);
  t.regex(denied.body.reason, /API key prometheus has role viewer/);
  const unknown = await request<Refusal>(`${gw.url}/api/spots`, { headers: { 'x-api-key': 'sgk_nothing' } });
  t.is(unknown.status, 401);
  t.regex(unknown.body.reason, /unknown API key/);

  const db = openAuthDb(dataDir);
  t.true(new ApiKeys(db).revoke(viewerKey.id));
  db.close();
  const revoked = await request<Refusal>(`${gw.url}/api/spots`, { headers: { 'x-api-key': viewerKey.key } });
  t.is(revoked.status, 401);
  t.regex(revoked.body.reason, /API key prometheus revoked/);
});

test.serial('failed logins past auth.max_failures_per_min are answered 429 from that address, even with the right password', async (t) => {
  const { gw } = await gatewayWithUsers(t, { max_failures_per_min: 2 });
  for (let i = 0; i < 2; i++) t.is((await request(`${gw.url}/api/auth/login`, { body: { user: 'ann', password: 'wrong password!' } })).status, 401);
  const limited = await request<Refusal>(`${gw.url}/api/auth/login`, { body: { user: 'ann', password: ADMIN_PW } });
  t.is(limited.status, 429);
  t.truthy(limited.headers.get('retry-after'));
  t.is((await request(`${gw.url}/api/spots`, { headers: { 'x-api-key': 'sgk_x' } })).status, 429, 'the API routes too');
});

test.serial('route roles: listed routes have their role; a route not listed (a new one) needs admin; HEAD is GET', (t) => {
  t.is(needOf('GET', '/api/spots'), 'viewer');
  t.is(needOf('HEAD', '/api/live'), 'viewer');
  t.is(needOf('POST', '/api/spots/:serial/commands'), 'admin');
  t.is(needOf('POST', '/api/flash'), 'admin');
  t.is(needOf('GET', '/api/images'), 'admin');
  t.is(needOf('GET', undefined), 'open', 'no route matched: the 404 answer');
  t.is(ROUTE_NEEDS['GET /healthz'], 'open');
});
