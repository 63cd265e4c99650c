// The session cookie carries Secure when the login came over TLS (here a fastify HTTPS server with a certificate made by the test).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import test from 'ava';
import Fastify from 'fastify';
import { openAuthDb } from '../../gateway/src/auth/auth-db.js';
import { registerAuthRoutes } from '../../gateway/src/auth/auth-routes.js';
import { FailureLimiter } from '../../gateway/src/auth/rate-limit.js';
import { Sessions } from '../../gateway/src/auth/sessions.js';
import { Users } from '../../gateway/src/auth/users.js';
import { tempDir, within } from '../helpers/gateway.js';

test('a login over TLS sets the cookie with Secure (HttpOnly and SameSite=Strict as over plain HTTP)', async (t) => {
  const dir = tempDir(t);
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const db = openAuthDb(dir);
  t.teardown(() => db.close());
  const users = new Users(db);
  await users.add('ann', 'admin', 'a long password');
  const app = Fastify({ https: { key: readFileSync(key), cert: readFileSync(cert) } });
  registerAuthRoutes(app, {
    modes: { spots: 'off', api: 'on' },
    users,
    sessions: new Sessions(db, { idleMs: 60_000, maxMs: 120_000 }),
    limiter: new FailureLimiter(5),
    failures: { api: 0 },
    sessionMaxS: 120,
    logger: { info: () => undefined },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const port = (app.server.address() as AddressInfo).port;
  const body = JSON.stringify({ user: 'ann', password: 'a long password' });
  const setCookie = await within(
    new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/api/auth/login', method: 'POST', ca: readFileSync(cert), headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(String(res.headers['set-cookie']?.[0] ?? `status ${res.statusCode}`));
      });
      req.on('error', reject);
      req.end(body);
    }),
    10000,
    'the login over TLS',
  );
  t.regex(setCookie, /^sg_session=sgs_[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=120; Secure$/);
});
