// The spot registry over the API: GET /api/spots in pages (serial order as text), GET /api/spots/:serial.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseSerial } from '../ingest/headers.js';
import type { SpotRegistry } from '../store/types.js';
import { badRequest, intParam, notFound } from './errors.js';
import { spotView } from './views.js';

export interface SpotRoutesDeps {
  spots: Pick<SpotRegistry, 'get' | 'page' | 'count'>;
  isOnline(serial: string): boolean;
}

/** Longest page, and the default: a site of up to this many spots gets them all without paging. */
export const MAX_SPOTS_LIMIT = 1000;
/** A page ends before the spot whose JSON would take it past this (at least one spot). */
export const SPOTS_PAGE_BYTES = 1048576;

/** A cursor: a serial, or 0 for "before the first" (after=0 pages from the start). */
function cursorParam(value: string | undefined, name: string): string | undefined | { reason: string } {
  if (value === undefined || value === '') return undefined;
  if (value === '0') return '0';
  const serial = parseSerial(value);
  return serial.ok ? serial.value : { reason: `${name}: ${serial.reason}` };
}

interface SpotsQuery {
  limit?: string;
  after?: string;
  before?: string;
}

export function registerSpotRoutes(app: FastifyInstance, deps: SpotRoutesDeps): void {
  app.get<{ Querystring: SpotsQuery }>('/api/spots', async (request, reply) => listSpots(deps, request.query, reply));

  app.get<{ Params: { serial: string } }>('/api/spots/:serial', async (request, reply) => {
    const serial = parseSerial(request.params.serial);
    if (!serial.ok) return badRequest(reply, serial.reason);
    const spot = deps.spots.get(serial.value);
    if (!spot) return notFound(reply, `spot ${serial.value} has never posted`);
    return spotView(spot, deps.isOnline(spot.serial));
  });
}

function listSpots(deps: SpotRoutesDeps, query: SpotsQuery, reply: FastifyReply): FastifyReply {
  const limit = intParam(query.limit, 'limit', 1, MAX_SPOTS_LIMIT);
  if (typeof limit === 'string') return badRequest(reply, limit);
  const after = cursorParam(query.after, 'after');
  if (typeof after === 'object') return badRequest(reply, after.reason);
  const before = cursorParam(query.before, 'before');
  if (typeof before === 'object') return badRequest(reply, before.reason);
  if (after !== undefined && before !== undefined) return badRequest(reply, 'after and before: give one of them (after pages up in serial order, before pages down)');
  const wanted = limit ?? MAX_SPOTS_LIMIT;
  // "0" sorts before every serial as text, so after=0 is the first page and before=0 an empty one.
  const rows = deps.spots.page({ after: after === '0' ? undefined : after, before, limit: wanted });
  const page: Array<Record<string, unknown>> = [];
  let bytes = 0;
  for (const spot of rows) {
    const view = spotView(spot, deps.isOnline(spot.serial));
    bytes += Buffer.byteLength(JSON.stringify(view));
    if (page.length > 0 && bytes > SPOTS_PAGE_BYTES) break;
    page.push(view);
  }
  void reply.header('X-Total-Count', String(deps.spots.count()));
  const last = page.at(-1);
  // A full page, or one cut by the byte bound, may have more after it: the link to the next one (RFC 8288).
  if (last !== undefined && (page.length === wanted || page.length < rows.length)) {
    const cursor = before !== undefined ? `before=${String(last.serial)}` : `after=${String(last.serial)}`;
    void reply.header('Link', `</api/spots?${cursor}&limit=${wanted}>; rel="next"`);
  }
  return reply.send(page);
}
