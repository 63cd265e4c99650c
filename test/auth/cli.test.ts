// spot-gateway token|user|apikey as child processes against a running gateway's auth.db.
import { spawn } from 'node:child_process';
import test from 'ava';
import { BIN, REPO_ROOT, runCli, spawnGateway, tempDir, within } from '../helpers/gateway.js';
import { JSON_EVENTS } from '../helpers/gateway.js';
import { login, postOnce, request } from './http.js';

/** The CLI with `input` on its standard input; resolves with its exit code and output. */
async function cli(args: string[], dataDir: string, input?: string): Promise<{ code: number | string; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, SPOT_GATEWAY_DATA_DIR: dataDir }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(input ?? '');
  const code = await within(new Promise<number | string>((resolve) => child.once('exit', (c, s) => resolve(c ?? s ?? -1))), 20000, `spot-gateway ${args.join(' ')}`);
  return { code, out, err };
}

test('user add (password on stdin) while the gateway runs closes the first-start mode; user list, remove; bad input exits 2 with the reason', async (t) => {
  const dataDir = tempDir(t);
  const gw = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: dataDir, SPOT_GATEWAY_AUTH_API: 'on' } });
  t.regex(gw.stdout(), /auth: no user exists: reads are open to anyone/);
  t.is((await request(`${gw.url}/api/spots`)).status, 200, 'first start: reads open');

  t.like(await cli(['user', 'add', 'ann', '--role', 'admin'], dataDir, 'a long password\n'), { code: 0, out: 'user ann added (role admin)\n' });
  t.is((await request(`${gw.url}/api/spots`)).status, 401, 'from the next request on, credentials are needed');
  const ann = await login(gw.url, 'ann', 'a long password');
  t.is((await request(`${gw.url}/api/spots`, { headers: { cookie: ann.cookie } })).status, 200);

  const short = await cli(['user', 'add', 'bob', '--role', 'viewer'], dataDir, 'short\n');
  t.is(short.code, 2);
  t.regex(short.err, /password: at least 10 characters/);
  const role = await cli(['user', 'add', 'bob', '--role', 'root'], dataDir, 'a long password\n');
  t.is(role.code, 2);
  t.regex(role.err, /role "root": viewer or admin/);
  t.regex((await cli(['user', 'add', 'ann', '--role', 'viewer'], dataDir, 'a long password\n')).err, /user ann exists already/);
  t.regex((await cli(['user', 'list'], dataDir)).out, /^name +role +created\nann +admin +\d{4}-/);

  t.like(await cli(['user', 'remove', 'ann'], dataDir), { code: 0 });
  t.is((await request(`${gw.url}/api/spots`, { headers: { cookie: ann.cookie } })).status, 200, 'no user left: first-start mode again, reads open');
  t.is((await request(`${gw.url}/api/spots/9/commands`, { method: 'POST', headers: { cookie: ann.cookie, 'x-csrf-token': ann.csrf }, body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 12 } } })).status, 403);
  t.like(await cli(['user', 'remove', 'ann'], dataDir), { code: 1 });
});

test('token create --spot, list, revoke against a gateway with auth.spots token; apikey create, list (prefix only), revoke', async (t) => {
  const dataDir = tempDir(t);
  const gw = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: dataDir, SPOT_GATEWAY_AUTH_SPOTS: 'token' } });
  const created = await cli(['token', 'create', '--spot', '0077'], dataDir);
  t.is(created.code, 0);
  t.regex(created.err, /token 1 \(spot 77\); shown once/);
  const token = created.out.trim();
  t.regex(token, /^sgt_[A-Za-z0-9_-]{43}$/);
  const headers = { ...JSON_EVENTS, Authorization: `Bearer ${token}` };
  t.is((await postOnce(gw.port, 77, '["spot","update",{"online":true}]\n', headers)).status, 200);
  const listed = (await cli(['token', 'list'], dataDir)).out;
  t.regex(listed, new RegExp(`^1 +77 +${token.slice(0, 12)}\\.\\.\\. +\\d{4}-.* +-\\n`, 'm'));
  t.false(listed.includes(token), 'the list never shows the token');
  t.like(await cli(['token', 'revoke', '1'], dataDir), { code: 0, out: 'token 1 revoked\n' });
  t.is((await postOnce(gw.port, 77, '["spot","update",{"online":true}]\n', headers)).status, 401);
  t.like(await cli(['token', 'revoke', '1'], dataDir), { code: 1 });
  t.regex((await cli(['token', 'create', '--spot', 'abc'], dataDir)).err, /--spot: serial "abc" is not a positive integer/);
  t.regex((await cli(['token', 'revoke', 'x'], dataDir)).err, /ID "x" is not a number/);

  const key = await cli(['apikey', 'create', 'grafana', '--role', 'viewer'], dataDir);
  t.is(key.code, 0);
  t.regex(key.out.trim(), /^sgk_[A-Za-z0-9_-]{43}$/);
  const keys = (await cli(['apikey', 'list'], dataDir)).out;
  t.regex(keys, new RegExp(`^1 +grafana +viewer +${key.out.trim().slice(0, 12)}\\.\\.\\.`, 'm'));
  t.like(await cli(['apikey', 'revoke', '1'], dataDir), { code: 0 });
  t.regex((await cli(['apikey', 'list'], dataDir)).out, /^1 .* \d{4}-\S+Z$/m);
  t.regex((await cli(['apikey', 'create', 'x', '--role', 'owner'], dataDir)).err, /role "owner": viewer or admin/);
});

test('--help and usage of the credential commands', async (t) => {
  for (const kind of ['token', 'user', 'apikey']) {
    const help = runCli([kind, '--help']);
    t.is(await within(help.exited, 20000, `${kind} --help`), 0);
    t.regex(help.stdout(), new RegExp(`^Usage: spot-gateway ${kind} `));
    const bare = runCli([kind]);
    t.is(await within(bare.exited, 20000, kind), 2);
    const odd = runCli([kind, 'frobnicate', '--config', '/nonexistent.yaml']);
    t.is(await within(odd.exited, 20000, kind), 2);
    t.regex(odd.stderr(), /nonexistent\.yaml/);
  }
  const other = await cli(['user', 'frobnicate'], tempDir(t));
  t.is(other.code, 2);
  t.regex(other.err, /unknown command "user frobnicate"/);
});
