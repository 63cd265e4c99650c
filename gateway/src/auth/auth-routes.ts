// /api/auth/session, /api/auth/login, /api/auth/logout; and what the configuration leaves open, in words.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../api/errors.js';
import { cookieValue, identityOf } from './guard.js';
import { PasswordBusyError } from './passwords.js';
import type { FailureLimiter } from './rate-limit.js';
import { SESSION_COOKIE, type Sessions } from './sessions.js';
import type { Users } from './users.js';

export interface AuthModes {
  spots: 'off' | 'token';
  api: 'on' | 'off';
}

export interface AuthRoutesOptions {
  modes: AuthModes;
  users: Users;
  sessions: Sessions;
  limiter: FailureLimiter;
  failures: { api: number };
  sessionMaxS: number;
  logger: { info(obj: object, msg: string): void };
}

/** Sentences naming what the configuration leaves open (healthz, the dashboard's banner). */
export function openNotes(modes: AuthModes, users: number): string[] {
  const notes: string[] = [];
  if (modes.spots === 'off') notes.push("spot posts are not authenticated (auth.spots: off): anyone on the network can post events in a spot's name");
  if (modes.api === 'off') notes.push('the API is open (auth.api: off): anyone who reaches the port can read every event and queue commands');
  else if (users === 0) notes.push('no user exists: reads are open to anyone and changes are refused until an admin is added (spot-gateway user add NAME --role admin)');
  return notes;
}

/** The `auth` part of /healthz and /api/auth/session. */
export function authView(modes: AuthModes, users: number): { spots: string; api: string; users: number; open: string[] } {
  return { spots: modes.spots, api: modes.api, users, open: openNotes(modes, users) };
}

function sessionCookie(request: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${secure}`;
}

export function registerAuthRoutes(app: FastifyInstance, o: AuthRoutesOptions): void {
  app.get('/api/auth/session', async (request) => {
    const id = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const session = id === undefined ? null : o.sessions.resolve(id);
    return { auth: authView(o.modes, o.users.count()), user: session?.user ?? null, role: session?.role ?? null, csrf: session?.csrf ?? null };
  });

  app.post<{ Body: unknown }>('/api/auth/login', async (request, reply) => {
    const address = request.socket.remoteAddress ?? 'unknown';
    const retry = o.limiter.retryAfterS(address);
    if (retry > 0) {
      return reply.code(429).header('Retry-After', String(retry)).send({ error: 'too many requests', reason: `too many failed authentications from ${address}; try again in ${retry} s` });
    }
    const body = request.body as { user?: unknown; password?: unknown } | null;
    if (typeof body?.user !== 'string' || typeof body.password !== 'string') return badRequest(reply, 'body: {"user": "...", "password": "..."} (JSON strings)');
    let user;
    try {
      user = await o.users.authenticate(body.user, body.password);
    } catch (err) {
      if (!(err instanceof PasswordBusyError)) throw err;
      return reply.code(503).header('Retry-After', '1').send({ error: 'service unavailable', reason: `login: ${err.message}` });
    }
    if (!user) {
      o.limiter.failed(address);
      o.failures.api++;
      return reply.code(401).send({ error: 'unauthorized', reason: 'login: unknown user or wrong password' });
    }
    const session = o.sessions.create(user.name);
    o.logger.info({ user: user.name, address }, `user ${user.name} logged in from ${address}`);
    return reply.header('Set-Cookie', sessionCookie(request, session.id, o.sessionMaxS)).send({ user: user.name, role: user.role, csrf: session.csrf });
  });

  app.post('/api/auth/logout', async (request, reply) => {
    const who = identityOf(request);
    if (who.kind === 'session') o.sessions.end(who.sessionId);
    return reply.header('Set-Cookie', sessionCookie(request, '', 0)).code(204).send();
  });
}
