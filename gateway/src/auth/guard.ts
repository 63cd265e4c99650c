// The API's guard: who a request is (session cookie or API key) and whether its route's role allows it (docs/security.md).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeys } from './api-keys.js';
import type { FailureLimiter } from './rate-limit.js';
import { needOf, type Need } from './route-roles.js';
import { bearerOf, digestOf, sameDigest } from './secrets.js';
import { SESSION_COOKIE, type Sessions } from './sessions.js';
import type { Role } from './users.js';

export type Identity =
  | { kind: 'session'; user: string; role: Role; csrf: string; sessionId: string }
  | { kind: 'key'; name: string; role: Role }
  | { kind: 'anonymous' };

export interface GuardOptions {
  sessions: Sessions;
  apiKeys: ApiKeys;
  users: { count(): number };
  limiter: FailureLimiter;
  /** Bad API keys and passwords (metrics). */
  failures: { api: number };
}

export const NO_USER_REASON = 'no user exists: create an admin on the gateway host with `spot-gateway user add NAME --role admin` (docs/security.md, first start)';

const identities = new WeakMap<FastifyRequest, Identity>();

/** Who the guard found the request to be (anonymous when the guard did not look). */
export function identityOf(request: FastifyRequest): Identity {
  return identities.get(request) ?? { kind: 'anonymous' };
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function answer(reply: FastifyReply, status: number, error: string, reason: string): FastifyReply {
  if (status === 401) void reply.header('WWW-Authenticate', 'Bearer realm="spot-gateway"');
  return reply.code(status).send({ error, reason });
}

function isChange(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

function needWords(need: Need): string {
  return need === 'session' ? 'a logged-in session' : `role ${need}`;
}

export function registerGuard(app: FastifyInstance, o: GuardOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    const need = needOf(request.method, request.routeOptions.url);
    if (need === 'open') return;
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    if (o.users.count() === 0) {
      // First start: reads open, changes refused until an admin exists.
      if (need === 'viewer') return;
      return answer(reply, 403, 'forbidden', `${route}: ${NO_USER_REASON}`);
    }
    const address = request.socket.remoteAddress ?? 'unknown';
    const retry = o.limiter.retryAfterS(address);
    if (retry > 0) {
      void reply.header('Retry-After', String(retry));
      return answer(reply, 429, 'too many requests', `too many failed authentications from ${address}; try again in ${retry} s`);
    }
    const who = identify(request, o);
    if (who.kind === 'refused') {
      // A wrong key is a guess; an ended session is not (a browser keeps its old cookie).
      if (who.guess) {
        o.limiter.failed(address);
        o.failures.api++;
      }
      return answer(reply, 401, 'unauthorized', `${route}: ${who.reason}`);
    }
    if (who.kind === 'anonymous') return answer(reply, 401, 'unauthorized', `${route} needs ${needWords(need)}: log in (POST /api/auth/login) or send an API key (X-API-Key)`);
    if (need === 'session' && who.kind !== 'session') return answer(reply, 401, 'unauthorized', `${route} needs a logged-in session`);
    if (need === 'admin' && who.role !== 'admin') {
      const name = who.kind === 'session' ? `user ${who.user}` : `API key ${who.name}`;
      return answer(reply, 403, 'forbidden', `${route} needs role admin; ${name} has role ${who.role}`);
    }
    if (who.kind === 'session' && isChange(request.method) && !csrfFits(request, who.csrf)) {
      return answer(reply, 403, 'forbidden', `${route}: missing or wrong X-CSRF-Token (a change made with the session cookie needs the token from login)`);
    }
    identities.set(request, who);
  });
}

function csrfFits(request: FastifyRequest, csrf: string): boolean {
  const sent = request.headers['x-csrf-token'];
  return typeof sent === 'string' && sameDigest(digestOf(sent), digestOf(csrf));
}

type Refused = { kind: 'refused'; reason: string; guess: boolean };

/** The identity, or why the credentials presented are refused. */
function identify(request: FastifyRequest, o: GuardOptions): Identity | Refused {
  const header = request.headers['x-api-key'];
  const key = (typeof header === 'string' ? header : undefined) ?? bearerOf(request.headers.authorization);
  if (key !== undefined) {
    const checked = o.apiKeys.check(key);
    return checked.ok ? { kind: 'key', name: checked.name, role: checked.role } : { kind: 'refused', reason: checked.reason, guess: true };
  }
  const sessionId = cookieValue(request.headers.cookie, SESSION_COOKIE);
  if (sessionId === undefined) return { kind: 'anonymous' };
  const session = o.sessions.resolve(sessionId);
  if (!session) return { kind: 'refused', reason: 'session unknown or ended (idle or too old): log in again', guess: false };
  return { kind: 'session', ...session, sessionId };
}
