// API errors as values: {error, reason} with the HTTP status that fits.
import type { FastifyReply } from 'fastify';

export function badRequest(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(400).send({ error: 'bad request', reason });
}

export function notFound(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(404).send({ error: 'not found', reason });
}

export function forbidden(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(403).send({ error: 'forbidden', reason });
}

export function conflict(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(409).send({ error: 'conflict', reason });
}

/** A request understood but refused for what it holds (an image that fails a check). */
export function unprocessable(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(422).send({ error: 'unprocessable entity', reason });
}

export function payloadTooLarge(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(413).send({ error: 'payload too large', reason });
}

export function tooManyRequests(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(429).send({ error: 'too many requests', reason });
}

export function unavailable(reply: FastifyReply, reason: string, retryAfterSeconds: number): FastifyReply {
  return reply.code(503).header('Retry-After', String(retryAfterSeconds)).send({ error: 'store unavailable', reason });
}

/** Non-negative integer query parameter; undefined when absent, a reason string when bad. */
export function intParam(value: unknown, name: string, min: number, max: number): number | undefined | string {
  if (value === undefined || value === '') return undefined;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a query value: a string, or an array of them
  const text = String(value);
  if (!/^\d{1,15}$/.test(text)) return `${name} "${text.slice(0, 40)}" is not an integer`;
  const n = Number(text);
  if (n < min || n > max) return `${name} ${n} is out of range ${min}..${max}`;
  return n;
}
