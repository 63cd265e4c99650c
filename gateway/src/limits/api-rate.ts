// limits.api_requests_per_s: a token bucket per API client; over it, 429 with Retry-After (docs/limits.md).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { identityOf } from '../auth/guard.js';
import type { TokenBuckets } from './token-buckets.js';

export interface ApiRateOptions {
  buckets: TokenBuckets;
  counters: { apiRateLimited: number };
}

/** Who a request's bucket belongs to: its API key or session when the guard found one, else its address. */
export function clientOf(request: FastifyRequest): { key: string; words: string } {
  const who = identityOf(request);
  if (who.kind === 'key') return { key: `key:${who.name}`, words: `API key ${who.name}` };
  if (who.kind === 'session') return { key: `session:${who.sessionId}`, words: `the session of user ${who.user}` };
  const address = request.socket.remoteAddress ?? 'unknown';
  return { key: `address:${address}`, words: address };
}

/**
 * Every request under /api/ (the spot ingest route is served before fastify and is not one of
 * them) takes a token of its client's bucket. Registered after the guard, which tells the client.
 */
export function registerApiRateLimit(app: FastifyInstance, o: ApiRateOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/') || !o.buckets.limited) return;
    const client = clientOf(request);
    const waitMs = o.buckets.tryTake(client.key);
    if (waitMs === 0) return;
    o.counters.apiRateLimited++;
    const retryS = Math.max(1, Math.ceil(waitMs / 1000));
    const { perS, burst } = o.buckets.current;
    void reply.header('Retry-After', String(retryS));
    return reply.code(429).send({
      error: 'too many requests',
      reason: `${client.words}: over limits.api_requests_per_s (${perS} a second, bursts of ${burst}); try again in ${retryS} s`,
    });
  });
}
