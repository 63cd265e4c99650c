// The OpenAPI 3.0 document of the gateway's HTTP interface, served at /api/openapi.json.
import { componentSchemas } from './openapi-schemas.js';

const error = { $ref: '#/components/schemas/Error' };
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const serial = { name: 'serial', in: 'path', required: true, description: 'spot serial (positive integer)', schema: { type: 'integer', minimum: 1 } };
const limit = { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000, default: 100 } };
const quarantineId = { name: 'id', in: 'path', required: true, description: 'quarantine entry id', schema: { type: 'integer', minimum: 1 } };
const badRequest = { description: 'bad parameter: the reason names it', ...json(error) };
const image = { $ref: '#/components/schemas/StoredImage' };
const flashJob = { $ref: '#/components/schemas/FlashJob' };
const imageHash = { name: 'hash', in: 'path', required: true, description: "the image's SHA-256 (its hash TLV), hex", schema: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } };

export function openApiDocument(version: string): object {
  return {
    openapi: '3.0.3',
    info: {
      title: 'spot-gateway',
      version,
      description:
        'Spot ingest (spot protocol over HTTP) and the local JSON API. Errors are {error, reason}. ' +
        'Any /api/ route but the spot ingest may answer 429 with Retry-After (limits.api_requests_per_s per client) and 408 (headers not received within http.header_timeout_ms, a body silent for http.idle_timeout_ms); see docs/limits.md.',
    },
    paths: {
      '/api/spots/{serial}/events/': {
        post: {
          summary: 'A spot posts its event stream (chunked; JSON or PB); the response carries its queued commands',
          description:
            'The trailing slash is optional. Events are stored as chunks arrive; the 200 is written after all of them are committed. ' +
            'Content-Type text/x-intellifi-events (JSON) or application/x-intellifi-events-pb (PB); otherwise the encoding is sniffed. ' +
            'X-Spot-Boot / X-Spot-Seq number the events for dedupe (docs/protocol.md). ' +
            'A spot over limits.spot_events_per_s has its body read more slowly (nothing is dropped; docs/limits.md). ' +

            'A GET with Upgrade: websocket (subprotocols spot-json.v1, spot-pb.v1) opens the WebSocket transport instead (docs/websocket.md).',
          parameters: [
            serial,
            { name: 'X-Spot-Boot', in: 'header', schema: { type: 'integer', minimum: 0 } },
            { name: 'X-Spot-Seq', in: 'header', description: 'seq of the first message of the body', schema: { type: 'integer', minimum: 1 } },
          ],
          requestBody: { content: { 'text/x-intellifi-events': {}, 'application/x-intellifi-events-pb': {} } },
          responses: {
            '200': { description: 'all events stored; body = queued commands in the spot encoding (empty when none)' },
            '400': badRequest,
            '408': { description: 'body silent for http.idle_timeout_ms; events before were stored', ...json(error) },
            '401': { description: 'auth.spots token: no, an unknown, a revoked or a foreign Bearer token (docs/security.md); body not read, nothing stored', ...json(error) },
            '409': { description: 'auth.spots off: X-Spot-Seq more than auth.numbering_max_ahead ahead of the stored numbering; body not read, nothing stored', ...json(error) },
            '415': { description: 'Content-Encoding other than identity: body not read, nothing stored', ...json(error) },
            '429': { description: 'auth.spots token: too many failed authentications from the address; Retry-After says when', ...json(error) },
            '503': { description: 'not stored (store full under policy reject, disk trouble); Retry-After says when to retry', ...json(error) },
          },
        },
      },
      '/api/spots/{serial}/commands': {
        post: {
          summary: 'Queue a command for the spot (delivered at the end of its next post)',
          parameters: [serial],
          requestBody: json({ $ref: '#/components/schemas/CommandInput' }),
          responses: {
            '202': { description: 'queued', ...json({ type: 'object', properties: { id: { type: 'integer' }, state: { type: 'string' } } }) },
            '400': { description: 'invalid command: the reason names the key', ...json(error) },
            '413': { description: 'over commands.max_bytes (bytes of its JSON message): the reason gives its size and the limit', ...json(error) },
            '429': { description: "the spot's queue is full (commands.max_queued_per_spot or commands.max_queued_bytes_per_spot)", ...json(error) },
            '503': { description: 'could not be stored', ...json(error) },
          },
        },
        get: {
          summary: 'Commands of the spot, with their states: newest first; with after, in id order above it; with before, newest first below it',
          description: 'A page holds at most limit commands and ends before the command that would take it past 1 MiB of command sizes (at least one). Page on with after=<last id> (or before=<last id>) until a page is empty.',
          parameters: [
            serial,
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            { name: 'after', in: 'query', description: 'only ids above it, oldest first', schema: { type: 'integer', minimum: 0 } },
            { name: 'before', in: 'query', description: 'only ids below it, newest first (not with after)', schema: { type: 'integer', minimum: 0 } },
          ],
          responses: { '200': json({ type: 'array', items: { $ref: '#/components/schemas/Command' } }), '400': badRequest },
        },
      },
      '/api/spots': { get: { summary: 'Every spot that ever posted', responses: { '200': json({ type: 'array', items: { $ref: '#/components/schemas/Spot' } }) } } },
      '/api/spots/{serial}': {
        get: {
          summary: 'One spot',
          parameters: [serial],
          responses: { '200': json({ $ref: '#/components/schemas/Spot' }), '400': badRequest, '404': { description: 'unknown spot', ...json(error) } },
        },
      },
      '/api/events': {
        get: {
          summary: 'Stored events in id order',
          parameters: [
            { name: 'spot', in: 'query', schema: { type: 'integer', minimum: 1 } },
            { name: 'after', in: 'query', description: 'only ids above this', schema: { type: 'integer', minimum: 0, default: 0 } },
            limit,
          ],
          responses: { '200': json({ type: 'array', items: { $ref: '#/components/schemas/Event' } }), '400': badRequest },
        },
      },
      '/api/rejected': {
        get: {
          summary: 'Malformed messages, newest first',
          parameters: [{ name: 'spot', in: 'query', schema: { type: 'integer', minimum: 1 } }, limit],
          responses: { '200': json({ type: 'array', items: { $ref: '#/components/schemas/Rejected' } }), '400': badRequest },
        },
      },
      '/api/quarantine': {
        get: {
          summary: 'Events an upstream quarantined (the broker dropped the connection on them again and again), in id order, with the reason',
          parameters: [
            { name: 'upstream', in: 'query', schema: { type: 'string' } },
            { name: 'after', in: 'query', description: 'only ids above this', schema: { type: 'integer', minimum: 0, default: 0 } },
            limit,
          ],
          responses: { '200': json({ type: 'array', items: { $ref: '#/components/schemas/Quarantined' } }), '400': badRequest },
        },
      },
      '/api/quarantine/{id}/resend': {
        post: {
          summary: 'Publish a quarantined event again (its original event_id); it leaves the quarantine on the broker\'s PUBACK',
          parameters: [quarantineId],
          responses: {
            '202': { description: 'handed to the broker', ...json({ type: 'object', properties: { id: { type: 'integer' }, state: { type: 'string' } } }) },
            '400': badRequest,
            '404': { description: 'no such entry', ...json(error) },
            '409': { description: 'being resent already', ...json(error) },
            '503': { description: 'no connection or no free window slot now; Retry-After', ...json(error) },
          },
        },
      },
      '/api/quarantine/{id}': {
        delete: {
          summary: 'Discard a quarantined event for good',
          parameters: [quarantineId],
          responses: { '200': json({ type: 'object' }), '400': badRequest, '404': { description: 'no such entry', ...json(error) } },
        },
      },
      '/api/images': {
        post: {
          summary: 'Store a signed firmware image, checked first against firmware.trusted_keys and firmware.target (docs/firmware-store.md)',
          requestBody: { content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          responses: {
            '200': { description: 'stored already', ...json(image) },
            '201': { description: 'stored', ...json(image) },
            '400': { description: 'empty body', ...json(error) },
            '409': { description: 'firmware.max_images are stored', ...json(error) },
            '413': { description: 'over firmware.max_image_bytes', ...json(error) },
            '415': { description: 'not application/octet-stream', ...json(error) },
            '422': { description: 'refused: the reason starts with the failed check (unsigned, unknown-key, wrong-target, no-target, hash-mismatch, ...)', ...json(error) },
          },
        },
        get: { summary: 'Stored images, newest first', responses: { '200': json({ type: 'array', items: image }) } },
      },
      '/api/images/{hash}': {
        get: { summary: 'One stored image', parameters: [imageHash], responses: { '200': json(image), '400': badRequest, '404': { description: 'not stored', ...json(error) } } },
        delete: {
          summary: 'Delete a stored image',
          parameters: [imageHash],
          responses: { '200': json({ type: 'object', properties: { hash: { type: 'string' }, deleted: { type: 'boolean' } } }), '400': badRequest, '404': { description: 'not stored', ...json(error) } },
        },
      },
      '/api/images/{hash}/file': {
        get: {
          summary: 'The stored image file, checked again first',
          parameters: [imageHash],
          responses: {
            '200': { description: 'application/octet-stream' },
            '400': badRequest,
            '404': { description: 'not stored', ...json(error) },
            '422': { description: 'no longer passes its checks (changed on disk, key no longer trusted)', ...json(error) },
          },
        },
      },
      '/api/flash': {
        post: {
          summary: 'Start a flash job: a stored image into the spot on a serial port (one job per port at a time)',
          requestBody: json({ $ref: '#/components/schemas/FlashRequest' }),
          responses: {
            '202': { description: 'started; Location: /api/flash/<id>', ...json(flashJob) },
            '400': { description: 'bad body: the reason names the key', ...json(error) },
            '403': { description: 'port outside firmware.ports', ...json(error) },
            '404': { description: 'image not stored', ...json(error) },
            '409': { description: 'the port is busy with another job, or the gateway is stopping', ...json(error) },
            '422': { description: 'the stored image no longer passes its checks', ...json(error) },
          },
        },
        get: { summary: 'Flash jobs kept (queued, running, the last 100 finished), newest first', responses: { '200': json({ type: 'array', items: flashJob }) } },
      },
      '/api/flash/{id}': {
        get: {
          summary: 'One flash job: state, step, progress, outcome',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': json(flashJob), '404': { description: 'no such job kept', ...json(error) } },
        },
      },
      '/api/status': { get: { summary: 'Buffer, upstreams, ingest counters, spots', responses: { '200': json({ $ref: '#/components/schemas/Status' }) } } },
      '/api/live': {
        get: {
          summary: 'The dashboard live feed (text/event-stream): a status frame every second, events as they commit (docs/dashboard.md)',
          parameters: [
            { name: 'spot', in: 'query', description: 'a serial: that spot\'s events; "all": every spot\'s; absent: status only', schema: { type: 'string' } },
            { name: 'after', in: 'query', description: 'only events above this id (or the Last-Event-ID header)', schema: { type: 'integer', minimum: 0 } },
          ],
          responses: { '200': { description: 'text/event-stream' }, '400': badRequest, '503': { description: 'too many live clients, or stopping' } },
        },
      },
      '/api/log-level': {
        get: { summary: 'The log level now', responses: { '200': json({ type: 'object', properties: { level: { type: 'string' } } }) } },
        put: {
          summary: 'Change the log level at once (until a restart, or a SIGHUP that changes log.level)',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object', required: ['level'], properties: { level: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] } } } } },
          },
          responses: {
            '200': json({ type: 'object', properties: { level: { type: 'string' }, previous: { type: 'string' } } }),
            '400': badRequest,
          },
        },
      },
      '/api/backup': {
        post: {
          summary: "SQLite's online backup of the database, made by the gateway's own connection while it runs, sent as a file (docs/operations.md)",
          responses: {
            '200': {
              description:
                'application/vnd.sqlite3: the database (rollback-journal mode, one file); headers X-Spot-Gateway-Last-Event-Id, X-Spot-Gateway-Schema-Version, X-Spot-Gateway-Instance-Id',
            },
            '409': { description: 'a backup is being made already', ...json(error) },
            '503': { description: 'the backup failed (the store closed, the disk full)', ...json(error) },
          },
        },
      },
      '/': { get: { summary: 'The dashboard (HTML; its files under /dashboard/)', responses: { '200': { description: 'text/html' } } } },
      '/healthz': { get: { summary: 'Liveness: {status: ok|degraded, reason, auth: {spots, api, users, open}}; open to anyone', responses: { '200': json({ type: 'object' }) } } },
      '/api/auth/session': {
        get: {
          summary: 'What authentication is on and leaves open, and the session of the cookie sent (user, role, csrf; null without one); open to anyone',
          responses: { '200': json({ type: 'object', properties: { auth: { type: 'object' }, user: { type: 'string', nullable: true }, role: { type: 'string', nullable: true }, csrf: { type: 'string', nullable: true } } }) },
        },
      },
      '/api/auth/login': {
        post: {
          summary: 'Log in: sets the sg_session cookie (HttpOnly, SameSite=Strict); the csrf token goes in X-CSRF-Token on every change made with the cookie',
          requestBody: json({ type: 'object', required: ['user', 'password'], properties: { user: { type: 'string' }, password: { type: 'string' } } }),
          responses: {
            '200': json({ type: 'object', properties: { user: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'admin'] }, csrf: { type: 'string' } } }),
            '400': badRequest,
            '401': { description: 'unknown user or wrong password', ...json(error) },
            '429': { description: 'too many failed authentications from the address; Retry-After says when', ...json(error) },
          },
        },
      },
      '/api/auth/logout': {
        post: { summary: 'Ends the session of the cookie (needs X-CSRF-Token)', responses: { '204': { description: 'ended; the cookie is cleared' }, '401': { description: 'no live session', ...json(error) }, '403': { description: 'missing or wrong X-CSRF-Token', ...json(error) } } },
      },
      '/metrics': { get: { summary: 'Prometheus metrics (text format)', responses: { '200': { description: 'text/plain; version=0.0.4' } } } },
      '/api/openapi.json': { get: { summary: 'This document', responses: { '200': json({ type: 'object' }) } } },
    },
    components: {
      schemas: componentSchemas,
    },
  };
}
