// The auth parts alone: the rate limiter's window and memory bound, the per-spot 401 count's bound, password hashes,
// auth.db's versions, the spot guard without a readable store, and the config's cross-check.
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { registerAuthRoutes } from '../../gateway/src/auth/auth-routes.js';
import { AUTH_DB_FILE, AuthDbError, openAuthDb } from '../../gateway/src/auth/auth-db.js';
import { ApiKeys } from '../../gateway/src/auth/api-keys.js';
import { hashPassword, MAX_WAITING_HASHES, PasswordBusyError, verifyPassword } from '../../gateway/src/auth/passwords.js';
import { FailureLimiter, WINDOW_MS } from '../../gateway/src/auth/rate-limit.js';
import { bearerOf, sameDigest } from '../../gateway/src/auth/secrets.js';
import { Sessions } from '../../gateway/src/auth/sessions.js';
import { MAX_COUNTED_SPOTS, SpotAuthFailures, spotGuard } from '../../gateway/src/auth/spot-guard.js';
import { Users, UserError } from '../../gateway/src/auth/users.js';
import { ConfigError, defaultConfig } from '../../gateway/src/config/index.js';
import { silentLogger } from '../../gateway/src/log.js';
import { startGateway } from '../../gateway/src/main.js';
import { tempDir } from '../helpers/gateway.js';
import type http from 'node:http';

test('the limiter refuses an address past its failures until its minute is over, and forgets the oldest address past its bound', (t) => {
  let now = 1000;
  const limiter = new FailureLimiter(2, () => now, 3);
  limiter.failed('a');
  t.is(limiter.retryAfterS('a'), 0);
  limiter.failed('a');
  t.is(limiter.retryAfterS('a'), 60);
  now += WINDOW_MS - 1500;
  t.is(limiter.retryAfterS('a'), 2);
  now += 1500;
  t.is(limiter.retryAfterS('a'), 0, 'the minute is over');
  t.is(limiter.limited, 2);
  limiter.failed('a');
  limiter.failed('b');
  limiter.failed('c');
  limiter.failed('d');
  t.is(limiter.tracked, 3, 'bounded');
  limiter.failed('a');
  t.is(limiter.retryAfterS('a'), 0, 'a was the oldest and was forgotten: its count started again');
});

test('401s are counted per spot for the first spots, then under "other"', (t) => {
  const failures = new SpotAuthFailures();
  for (let i = 0; i < MAX_COUNTED_SPOTS + 5; i++) failures.add(String(i + 1));
  failures.add('1');
  t.is(failures.bySpot.size, MAX_COUNTED_SPOTS);
  t.is(failures.bySpot.get('1'), 2);
  t.is(failures.other, 5);
});

test('password hashes: scrypt with its parameters in the text; the right password matches, others and damaged hashes do not', async (t) => {
  const hash = await hashPassword('correct horse');
  t.regex(hash, /^scrypt\$17\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  t.true(await verifyPassword('correct horse', hash));
  t.false(await verifyPassword('correct horsf', hash));
  t.not(await hashPassword('correct horse'), hash, 'salted');
  for (const bad of ['', 'bcrypt$1$2$3$4$5', 'scrypt$x$8$1$AA$AA', 'scrypt$30$8$1$AA$AA', `${hash.slice(0, hash.lastIndexOf('$'))}$`]) t.false(await verifyPassword('correct horse', bad), bad);
});

test.serial('password checks run one at a time with a bounded queue: past it they are refused at once, naming why', async (t) => {
  const stored = await hashPassword('correct horse');
  const checks = Array.from({ length: MAX_WAITING_HASHES + 3 }, () => verifyPassword('correct horse', stored).then((ok) => ok, (err: unknown) => err));
  const outcomes = await Promise.all(checks);
  t.deepEqual(outcomes.slice(0, MAX_WAITING_HASHES), Array.from({ length: MAX_WAITING_HASHES }, () => true));
  for (const refused of outcomes.slice(MAX_WAITING_HASHES)) {
    t.true(refused instanceof PasswordBusyError);
    t.regex((refused as Error).message, /8 password checks are waiting already/);
  }
  t.true(await verifyPassword('correct horse', stored), 'the queue empties again');
});

test('secrets: Bearer parsing and digest comparison of unequal lengths', (t) => {
  t.is(bearerOf('Bearer abc'), 'abc');
  t.is(bearerOf('bearer  abc '), 'abc');
  t.is(bearerOf('Basic abc'), undefined);
  t.is(bearerOf(undefined), undefined);
  t.false(sameDigest(Buffer.alloc(32), Buffer.alloc(31)));
});

test('users and API keys refuse bad names and roles, naming them; sessions of a removed user end', async (t) => {
  const db = openAuthDb(tempDir(t));
  t.teardown(() => db.close());
  const users = new Users(db);
  await t.throwsAsync(users.add('a b', 'admin', 'long enough pw'), { instanceOf: UserError, message: /user name "a b"/ });
  await users.add('ann', 'admin', 'long enough pw');
  const sessions = new Sessions(db, { idleMs: 60_000, maxMs: 120_000 });
  const s = sessions.create('ann');
  t.is(sessions.resolve(s.id)?.user, 'ann');
  t.is(sessions.resolve(`${s.id}x`), null);
  t.true(users.remove('ann'));
  t.is(sessions.resolve(s.id), null);
  t.throws(() => new ApiKeys(db).create(' x', 'viewer'), { instanceOf: UserError, message: /key name/ });
  t.throws(() => new ApiKeys(db).create('x', 'root'), { instanceOf: UserError, message: /role "root"/ });
});

test('auth.db is made readable by its owner only', (t) => {
  const dir = tempDir(t);
  openAuthDb(dir).close();
  t.is(statSync(path.join(dir, AUTH_DB_FILE)).mode & 0o777, 0o600);
});

test('auth.db: a file from a newer gateway or not a database is refused with the file named, never replaced', (t) => {
  const dir = tempDir(t);
  const db = openAuthDb(dir);
  db.pragma('user_version = 99');
  db.close();
  t.throws(() => openAuthDb(dir), { instanceOf: AuthDbError, message: /auth\.db: schema version 99 is newer than this gateway knows/ });

  const garbage = tempDir(t);
  writeFileSync(path.join(garbage, AUTH_DB_FILE), 'not a database, just text '.repeat(200));
  t.throws(() => openAuthDb(garbage), { instanceOf: AuthDbError, message: /auth\.db: file is not a database/ });
  t.is(new Database(path.join(dir, AUTH_DB_FILE)).pragma('user_version', { simple: true }), 99, 'left as it was');
});

test('a gateway whose auth.db cannot be opened does not start, and says why', async (t) => {
  const dataDir = tempDir(t);
  writeFileSync(path.join(dataDir, AUTH_DB_FILE), 'garbage '.repeat(1000));
  const config = defaultConfig({ data_dir: dataDir, http: { host: '127.0.0.1', port: 0 }, gateway: { id: 't' } });
  await t.throwsAsync(startGateway(config, { logger: silentLogger() }), { instanceOf: AuthDbError });
});

test('the spot guard: a store that cannot be read skips the bound (the post meets the same trouble), bound 0 means none', (t) => {
  const req = { socket: { remoteAddress: '10.0.0.9' }, headers: {} } as unknown as http.IncomingMessage;
  const base = { mode: 'off' as const, tokens: { check: () => ({ ok: true as const }) }, limiter: new FailureLimiter(5), failures: new SpotAuthFailures(), counters: { numberingRefused: 0 } };
  const broken = spotGuard({ ...base, maxAhead: 10, numberingOf: () => { throw new Error('disk gone'); } });
  t.deepEqual(broken(req, '1', { boot: 1, seq: 1e9 }), { ok: true });
  const unbounded = spotGuard({ ...base, maxAhead: 0, numberingOf: () => ({ boot: 1, highSeq: 1 }) });
  t.deepEqual(unbounded(req, '1', { boot: 1, seq: 1e9 }), { ok: true });
  const bounded = spotGuard({ ...base, maxAhead: 10, numberingOf: () => ({ boot: 1, highSeq: 1 }) });
  const unnumbered = bounded(req, '1', null);
  t.true(unnumbered.ok && unnumbered.numberingBound !== undefined, 'a post without header numbering still has its frames bounded');
});

test('the spot guard with tokens: an admitted connection looks its token up again; revoked gives the reason, an unreadable database keeps it', (t) => {
  const req = { socket: { remoteAddress: '10.0.0.9' }, headers: { authorization: 'Bearer sgt_x' } } as unknown as http.IncomingMessage;
  const answers: Array<() => { ok: true } | { ok: false; reason: string }> = [() => ({ ok: true }), () => ({ ok: true }), () => { throw new Error('SQLITE_BUSY'); }, () => ({ ok: false, reason: 'token revoked' })];
  const seen: Array<string | undefined> = [];
  const guard = spotGuard({
    mode: 'token',
    tokens: { check: (_serial, token) => (seen.push(token), answers.shift()!()) },
    limiter: new FailureLimiter(5),
    failures: new SpotAuthFailures(),
    numberingOf: () => null,
    maxAhead: 10,
    counters: { numberingRefused: 0 },
  });
  const admitted = guard(req, '7', null);
  if (!admitted.ok || !admitted.stillValid) return t.fail('admitted with a re-check');
  t.deepEqual([admitted.stillValid(), admitted.stillValid(), admitted.stillValid()], [null, null, 'token revoked']);
  t.deepEqual(seen, ['sgt_x', 'sgt_x', 'sgt_x', 'sgt_x'], 'the token the connection opened with, each time');
});

test('config: auth.session_max_s below auth.session_idle_s is refused, naming both', (t) => {
  t.throws(() => defaultConfig({ auth: { session_idle_s: 100, session_max_s: 50 } }), { instanceOf: ConfigError, message: 'auth.session_max_s: must be at least auth.session_idle_s (100)' });
  t.throws(() => defaultConfig({ auth: { spots: 'maybe' as 'off' } }), { instanceOf: ConfigError, message: /auth.spots/ });
});

test('a login while the password queue is full is answered 503 with Retry-After, naming why', async (t) => {
  const db = openAuthDb(tempDir(t));
  t.teardown(() => db.close());
  const users = new Users(db);
  users.authenticate = () => Promise.reject(new PasswordBusyError('8 password checks are waiting already; try again in a second'));
  const app = Fastify();
  registerAuthRoutes(app, {
    modes: { spots: 'off', api: 'on' },
    users,
    sessions: new Sessions(db, { idleMs: 60_000, maxMs: 120_000 }),
    limiter: new FailureLimiter(5),
    failures: { api: 0 },
    sessionMaxS: 120,
    logger: { info: () => undefined },
  });
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { user: 'ann', password: 'whatever it is' } });
  t.is(res.statusCode, 503);
  t.is(res.headers['retry-after'], '1');
  t.regex(res.json<{ reason: string }>().reason, /^login: 8 password checks are waiting already/);
});
