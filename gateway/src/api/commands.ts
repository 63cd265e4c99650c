// Commands for a spot: POST queues one (validated), GET lists them with their states.
import type { FastifyInstance } from 'fastify';
import { parseSerial } from '../ingest/headers.js';
import { StoreUnavailableError, type Store } from '../store/types.js';
import type { CommandAdmission, Refusal } from './command-admission.js';
import { badRequest, intParam, payloadTooLarge, tooManyRequests, unavailable } from './errors.js';
import { commandView } from './views.js';

export interface CommandBody {
  resource: string;
  action: string;
  data: Record<string, unknown>;
}

/** Checks a command before it is queued; the reason names the key and what is wrong with it. */
export type CommandCheck = (command: CommandBody) => { ok: true } | { ok: false; reason: string };

export interface CommandRoutesDeps {
  store: Pick<Store, 'commands'>;
  admission: CommandAdmission;
  logger: { info(obj: object, msg: string): void };
}

/** Longest page of the listing. */
export const MAX_LIST_LIMIT = 1000;
/** A page of the listing ends once its commands' sizes pass this (at least one command). */
export const LIST_PAGE_BYTES = 1048576;

const REFUSED: Record<Refusal, typeof badRequest> = { invalid: badRequest, 'too large': payloadTooLarge, 'queue full': tooManyRequests };

/** Shape of the body; the content (keys, types) is for the CommandCheck. */
export function readCommandBody(body: unknown): CommandBody | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object {"resource","action","data"}';
  const { resource, action, data } = body as Record<string, unknown>;
  if (typeof resource !== 'string' || resource === '') return 'resource: must be a non-empty string';
  if (typeof action !== 'string' || action === '') return 'action: must be a non-empty string';
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'data: must be a JSON object';
  const extra = Object.keys(body).filter((k) => k !== 'resource' && k !== 'action' && k !== 'data');
  if (extra.length > 0) return `${extra[0]}: unknown key (expected resource, action, data)`;
  return { resource, action, data: data as Record<string, unknown> };
}

export function registerCommandRoutes(app: FastifyInstance, deps: CommandRoutesDeps): void {
  app.post<{ Params: { serial: string } }>('/api/spots/:serial/commands', async (request, reply) => {
    const serial = parseSerial(request.params.serial);
    if (!serial.ok) return badRequest(reply, serial.reason);
    const command = readCommandBody(request.body);
    if (typeof command === 'string') return badRequest(reply, command);
    try {
      const admitted = await deps.admission.admit(serial.value, command, 'api');
      if (!admitted.ok) return REFUSED[admitted.refusal](reply, admitted.reason);
      const queued = admitted.command;
      deps.logger.info({ spot: serial.value, command: queued.id, resource: queued.resource, action: queued.action }, `spot ${serial.value}: command ${queued.id} queued (api)`);
      return reply.code(202).send({ id: queued.id, state: queued.state });
    } catch (err) {
      if (err instanceof StoreUnavailableError) return unavailable(reply, err.message, err.retryAfterSeconds);
      throw err;
    }
  });

  app.get<{ Params: { serial: string }; Querystring: { limit?: string; after?: string; before?: string } }>('/api/spots/:serial/commands', async (request, reply) => {
    const serial = parseSerial(request.params.serial);
    if (!serial.ok) return badRequest(reply, serial.reason);
    const { query } = request;
    const limit = intParam(query.limit, 'limit', 1, MAX_LIST_LIMIT);
    if (typeof limit === 'string') return badRequest(reply, limit);
    const after = intParam(query.after, 'after', 0, Number.MAX_SAFE_INTEGER);
    if (typeof after === 'string') return badRequest(reply, after);
    const before = intParam(query.before, 'before', 0, Number.MAX_SAFE_INTEGER);
    if (typeof before === 'string') return badRequest(reply, before);
    if (after !== undefined && before !== undefined) return badRequest(reply, 'after and before: give one of them (after pages up in id order, before pages down)');
    return deps.store.commands.list(serial.value, { limit: limit ?? 100, after, before, maxBytes: LIST_PAGE_BYTES }).map(commandView);
  });
}
