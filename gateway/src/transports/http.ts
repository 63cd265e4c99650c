// The HTTP server: spot posts go to the raw ingest handler (streamed, never buffered), the rest to fastify.
import http from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { HttpDrain } from './drain.js';
import { clip, ClientErrorAnswers, errorKind, refuseLongUrl } from './error-answers.js';

/** Handles a request on the raw node objects; returns false when it is not its request. */
export type RawRoute = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export interface HttpTransportOptions {
  /** Tried first for every request (the ingest route). */
  rawRoutes: RawRoute[];
  /** Registers the JSON API on the fastify instance. */
  registerApi: (app: FastifyInstance) => void;
  /** Keep-alive between a spot's posts; spots post again at once. */
  keepAliveTimeoutMs?: number;
  /** Sees every request, so a stop can answer, then close, each connection. */
  drain?: HttpDrain;
}

const BODY_LIMIT = 1024 * 1024;

export function createHttpTransport(options: HttpTransportOptions): FastifyInstance {
  const clientErrors = new ClientErrorAnswers();
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    clientErrorHandler: (err, socket) => clientErrors.answer(err, socket),
    serverFactory: (handler) => {
      const server = http.createServer((req, res) => {
        options.drain?.request(res);
        clientErrors.track(res);
        if (refuseLongUrl(req, res)) return;
        for (const route of options.rawRoutes) if (route(req, res)) return;
        handler(req, res);
      });
      server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65000;
      return server;
    },
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: 'not found', reason: `no route ${request.method} ${clip(request.url.split('?')[0]!)}` });
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const reason =
      status === 413 ? `request body over the ${request.routeOptions.bodyLimit} bytes this route takes`
      : status === 415 ? `body of type ${JSON.stringify(clip(request.headers['content-type'] ?? ''))} is not read on this route`
      : clip(err.message, 200);
    void reply.code(status).send({ error: errorKind(status), reason });
  });
  options.registerApi(app);
  return app;
}
