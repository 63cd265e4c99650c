// GET /api/live: the live feed as server-sent events (text/event-stream), on the raw response.
import type { FastifyInstance } from 'fastify';
import type http from 'node:http';
import { badRequest, intParam } from '../api/errors.js';
import { parseSerial } from '../ingest/headers.js';
import type { EventFilter, LiveFeed, LiveSink } from './live-feed.js';

export function registerLiveRoute(app: FastifyInstance, feed: LiveFeed): void {
  app.get<{ Querystring: { spot?: string; after?: string } }>('/api/live', async (request, reply) => {
    const filter = eventFilter(request.query.spot);
    if (typeof filter === 'string') return badRequest(reply, filter);
    // A browser that reconnects sends the id of the last event it got.
    const resumeFrom = request.headers['last-event-id'] ?? request.query.after;
    const after = intParam(resumeFrom, 'after (or Last-Event-ID)', 0, Number.MAX_SAFE_INTEGER);
    if (typeof after === 'string') return badRequest(reply, after);
    // HEAD (fastify answers it with the GET route) gets the head alone, not a stream.
    if (request.method === 'HEAD') return reply.type('text/event-stream; charset=utf-8').send();
    reply.hijack();
    const res = reply.raw;
    const attached = feed.attach(responseSink(res), filter, after ?? 0);
    if (!attached.ok) {
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Retry-After': '5' });
      res.end(JSON.stringify({ error: 'service unavailable', reason: `live feed: ${attached.reason}` }));
    }
  });
}

function eventFilter(spot: string | undefined): EventFilter | string {
  if (spot === undefined || spot === '') return { kind: 'none' };
  if (spot === 'all') return { kind: 'all' };
  const serial = parseSerial(spot);
  return serial.ok ? { kind: 'spot', spot: serial.value } : `spot: ${serial.reason} (or "all")`;
}

function responseSink(res: http.ServerResponse): LiveSink {
  let headed = false;
  return {
    get writableLength() {
      return res.writableLength;
    },
    write: (chunk) => {
      if (!headed) {
        headed = true;
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-store',
          'X-Accel-Buffering': 'no',
        });
      }
      return res.write(chunk);
    },
    close: () => res.destroy(),
    onClose: (listener) => res.once('close', listener),
  };
}
