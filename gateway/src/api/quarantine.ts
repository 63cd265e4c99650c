// Quarantined events: listed with their reason, resent by hand once the cause is fixed, or deleted (docs/api.md).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { StoreUnavailableError, type QuarantinedEvent, type Store } from '../store/types.js';
import { badRequest, intParam, notFound, unavailable } from './errors.js';

export type Resend = (id: number) => { ok: true } | { ok: false; status: 404 | 409 | 503; reason: string };

export interface QuarantineRoutesDeps {
  store: Pick<Store, 'quarantine' | 'instanceId'>;
  upstreams: () => Array<{ name: string; resend?: Resend }>;
}

/** The /healthz line while an upstream has quarantined events. */
export function quarantineProblem(upstream: string, count: number): string {
  return `upstream ${upstream}: ${count} event(s) quarantined (the broker dropped the connection on each again and again); see GET /api/quarantine, resend with POST /api/quarantine/<id>/resend`;
}

export function quarantineView(entry: QuarantinedEvent, instanceId: string): Record<string, unknown> {
  let data: unknown = entry.data;
  try {
    data = JSON.parse(entry.data);
  } catch {
    // Kept as text: the listing shows what was stored.
  }
  return {
    id: entry.id,
    upstream: entry.upstream,
    eventId: entry.eventId,
    stableEventId: `${instanceId}:${entry.eventId}`,
    spot: entry.spot,
    resource: entry.resource,
    action: entry.action,
    data,
    pbBase64: entry.pb ? Buffer.from(entry.pb).toString('base64') : null,
    timeReceived: entry.timeReceived,
    timeQuarantined: entry.timeQuarantined,
    strikes: entry.strikes,
    reason: entry.reason,
    resends: entry.resends,
    lastResendAt: entry.lastResendAt,
  };
}

export function registerQuarantineRoutes(app: FastifyInstance, deps: QuarantineRoutesDeps): void {
  const book = deps.store.quarantine;

  app.get<{ Querystring: { upstream?: string; after?: string; limit?: string } }>('/api/quarantine', async (request, reply) => {
    const after = intParam(request.query.after, 'after', 0, Number.MAX_SAFE_INTEGER);
    if (typeof after === 'string') return badRequest(reply, after);
    const limit = intParam(request.query.limit, 'limit', 1, 10000);
    if (typeof limit === 'string') return badRequest(reply, limit);
    const upstream = request.query.upstream || undefined;
    return book.list({ upstream, after: after ?? 0, limit: limit ?? 100 }).map((e) => quarantineView(e, deps.store.instanceId));
  });

  app.post<{ Params: { id: string } }>('/api/quarantine/:id/resend', async (request, reply) => {
    const entry = find(request.params.id, reply);
    if ('sent' in entry) return entry.sent;
    const upstream = deps.upstreams().find((u) => u.name === entry.upstream);
    if (!upstream?.resend) return notFound(reply, `upstream ${entry.upstream} of quarantined event ${entry.id} is not configured`);
    const outcome = upstream.resend(entry.id);
    if (outcome.ok) return reply.code(202).send({ id: entry.id, state: 'resending' });
    if (outcome.status === 503) return unavailable(reply, outcome.reason, 5);
    return reply.code(outcome.status).send({ error: outcome.status === 404 ? 'not found' : 'conflict', reason: outcome.reason });
  });

  app.delete<{ Params: { id: string } }>('/api/quarantine/:id', async (request, reply) => {
    const entry = find(request.params.id, reply);
    if ('sent' in entry) return entry.sent;
    try {
      book.remove(entry.id);
    } catch (err) {
      if (err instanceof StoreUnavailableError) return unavailable(reply, err.message, err.retryAfterSeconds);
      throw err;
    }
    return { id: entry.id, deleted: true };
  });

  /** The entry, or the reply already sent (bad id, unknown id). */
  function find(text: string, reply: FastifyReply): QuarantinedEvent | { sent: FastifyReply } {
    const id = intParam(text, 'id', 1, Number.MAX_SAFE_INTEGER);
    if (id === undefined || typeof id === 'string') return { sent: badRequest(reply, typeof id === 'string' ? id : 'id is missing') };
    const entry = book.get(id);
    return entry ?? { sent: notFound(reply, `no quarantined event ${id}`) };
  }
}
