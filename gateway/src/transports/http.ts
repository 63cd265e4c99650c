// The HTTP server: spot posts go to the raw ingest handler (streamed, never buffered), the rest to fastify.
// With TLS the main server is HTTPS; a plain server beside it serves the same handler (docs/tls.md).
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import type { RequestRefusals } from '../limits/refusals.js';
import type { HttpDrain } from './drain.js';
import { clip, ClientErrorAnswers, errorKind, refuseLongUrl } from './error-answers.js';

/** Handles a request on the raw node objects; returns false when it is not its request. */
export type RawRoute = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** Handles an HTTP upgrade request on the raw socket (node's 'upgrade' event). */
export type UpgradeRoute = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpTransportOptions {
  /** Tried first for every request (the ingest route). */
  rawRoutes: RawRoute[];
  /** Requests asking for a protocol upgrade (spot WebSockets, docs/websocket.md), on every server. */
  upgrade?: UpgradeRoute;
  /** Registers the JSON API on the fastify instance. */
  registerApi: (app: FastifyInstance) => void;
  /** Keep-alive between a spot's posts; spots post again at once. */
  keepAliveTimeoutMs?: number;
  /** Sees every request, so a stop can answer, then close, each connection. */
  drain?: HttpDrain;
  /** TLS on: the main server speaks HTTPS only. */
  tls?: {
    secureOptions: tls.SecureContextOptions;
    /** A connection that has not finished its handshake in this time is closed. */
    handshakeTimeoutMs: number;
    /** A connection that failed its handshake (closed by node without an answer). */
    onHandshakeFailure: (err: Error) => void;
  };
  /** Also build a plain HTTP server serving the same handler (the caller listens on it). */
  plain?: boolean;
  /** Request line and headers not complete in this time: 408 and closed (slow headers); default node's 60 s. */
  headerTimeoutMs?: number;
  /** An API request whose body stays silent this long: 408 and closed; default 30 s. */
  bodyIdleTimeoutMs?: number;
  /** Counts the 408s of both bounds. */
  timeouts?: { headerTimeouts: number; bodyTimeouts: number };
  /** Counts and logs the parser's refusals (400, 414, 431) and request targets over MAX_URL_BYTES. */
  refusals?: RequestRefusals;
}

export interface HttpTransport {
  app: FastifyInstance;
  /** The plain server beside an HTTPS one, when asked for; not listening yet. */
  plain: http.Server | null;
}

const BODY_LIMIT = 1024 * 1024;

/**
 * How often node looks for connections over the header timeout (its default, 30 s, would let a
 * slow client hold a connection up to 30 s past the bound): at most a second past it.
 */
export function checkingIntervalMs(headerTimeoutMs: number): number {
  return Math.min(1000, headerTimeoutMs);
}

/** node's own bounds: headers within `headerTimeoutMs`; none on the whole request (a spot post may stream for hours). */
function serverTimeouts(headerTimeoutMs: number): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  return { headersTimeout: headerTimeoutMs, requestTimeout: 0, connectionsCheckingInterval: checkingIntervalMs(headerTimeoutMs) };
}

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const clientErrors = new ClientErrorAnswers(options.timeouts, options.refusals);
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 65000;
  const timeouts = serverTimeouts(options.headerTimeoutMs ?? 60000);
  const bodyIdleMs = options.bodyIdleTimeoutMs ?? 30000;
  let plain: http.Server | null = null;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    clientErrorHandler: (err, socket) => clientErrors.answer(err, socket),
    serverFactory: (handler) => {
      const listener: http.RequestListener = (req, res) => {
        options.drain?.request(res);
        clientErrors.track(res);
        if (refuseLongUrl(req, res, options.refusals)) return;
        for (const route of options.rawRoutes) if (route(req, res)) return;
        watchBody(req, res, bodyIdleMs, options.timeouts);
        handler(req, res);
      };
      const server = options.tls ? httpsServer(options.tls, timeouts, listener) : http.createServer(timeouts, listener);
      server.keepAliveTimeout = keepAliveTimeout;
      if (options.upgrade) server.on('upgrade', options.upgrade);
      if (options.plain) {
        plain = http.createServer(timeouts, listener);
        plain.keepAliveTimeout = keepAliveTimeout;
        if (options.upgrade) plain.on('upgrade', options.upgrade);
        // fastify answers the main server's parser errors; the same answers on this one.
        plain.on('clientError', (err: Error, socket) => clientErrors.answer(err, socket));
      }
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
  return { app, plain };
}

/** How long a connection answered 408 may linger so the client can read the answer. */
const LINGER_MS = 1000;

/**
 * An API request whose body stays silent for `idleMs` (no bytes on its connection) is answered
 * 408 and closed: node's own bound on a whole request is off, as spot posts stream.
 */
function watchBody(req: http.IncomingMessage, res: http.ServerResponse, idleMs: number, counters: HttpTransportOptions['timeouts']): void {
  const socket = req.socket;
  let seen = socket.bytesRead;
  const check = (): void => {
    if (req.complete || res.writableEnded || socket.destroyed) return;
    if (socket.bytesRead !== seen) {
      seen = socket.bytesRead;
      timer = setTimeout(check, idleMs).unref();
      return;
    }
    if (counters) counters.bodyTimeouts++;
    if (!res.headersSent) {
      const text = JSON.stringify({ error: errorKind(408), reason: `request body silent for ${idleMs} ms (http.idle_timeout_ms); nothing of it was acted on` });
      res.writeHead(408, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), Connection: 'close' });
      res.end(text);
    }
    socket.destroySoon();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  let timer = setTimeout(check, idleMs).unref();
  res.once('close', () => clearTimeout(timer));
}

function httpsServer(options: NonNullable<HttpTransportOptions['tls']>, timeouts: ReturnType<typeof serverTimeouts>, listener: http.RequestListener): http.Server {
  const server = https.createServer({ ...options.secureOptions, handshakeTimeout: options.handshakeTimeoutMs, ...timeouts }, listener);
  // Node closes the connection after this event; nothing can be answered in HTTP before a handshake.
  server.on('tlsClientError', (err: Error) => options.onHandshakeFailure(err));
  return server;
}
