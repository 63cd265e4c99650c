// Error answers no route writes (node's parser errors, over-long URLs) as the same {error, reason} JSON as every other error.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RefusalReason, RequestRefusals } from '../limits/refusals.js';

/** Longest request target (path and query) served; a spot's URL is a few dozen bytes. */
export const MAX_URL_BYTES = 2048;

/** How long a connection refused at the parser may linger so the client can read the answer before the socket closes. */
const LINGER_MS = 1000;

/** Text echoed back in a reason: at most `max` characters, then "…", so a 10 kB URL never comes back whole. */
export function clip(text: string, max = 100): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The `error` word of a status, from node's status text ("payload too large", "uri too long"); 500 "internal error". */
export function errorKind(status: number): string {
  return status === 500 ? 'internal error' : (http.STATUS_CODES[status] ?? 'error').toLowerCase();
}

/** Answers a request whose target is over MAX_URL_BYTES with 414; false when the target is fine. */
export function refuseLongUrl(req: http.IncomingMessage, res: http.ServerResponse, refusals?: RequestRefusals): boolean {
  const url = req.url ?? '';
  if (url.length <= MAX_URL_BYTES) return false;
  const reason = `request target of ${url.length} bytes is over the ${MAX_URL_BYTES} served here: ${clip(url)}`;
  refusals?.refused('target_too_long', reason, req.socket.remoteAddress);
  const text = JSON.stringify({ error: errorKind(414), reason });
  // The body (if any) is not read: the connection closes.
  res.writeHead(414, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), Connection: 'close' });
  res.end(text);
  req.resume();
  return true;
}

type ClientError = Error & { code?: string; reason?: string; rawPacket?: unknown };

/** Status and reason for what node's HTTP parser refused (the clientError event); `kind` for its counter (none for a 408: a timeout). */
export function clientErrorAnswer(err: ClientError): { status: number; reason: string; kind?: RefusalReason } {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // Node counts the request line with the headers; a first line still open or over the URL limit is the URL's fault.
    const head = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.subarray(0, MAX_URL_BYTES + 64).toString('latin1') : '';
    const lineEnd = head.indexOf('\r\n');
    if (/^[A-Z]+ /.test(head) && (lineEnd < 0 || lineEnd > MAX_URL_BYTES)) {
      return { status: 414, kind: 'target_too_long', reason: `request target over the ${MAX_URL_BYTES} bytes served here (request line and headers over ${http.maxHeaderSize} bytes)` };
    }
    return { status: 431, kind: 'head_too_large', reason: `request line and headers over ${http.maxHeaderSize} bytes` };
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, reason: 'request line and headers not received within http.header_timeout_ms' };
  const why = typeof err.reason === 'string' ? err.reason : err.message;
  return { status: 400, kind: 'malformed', reason: `malformed HTTP request (${err.code ?? 'parse error'}): ${clip(why)}` };
}

/**
 * fastify's clientErrorHandler: writes the JSON answer straight to the socket (no request object exists),
 * unless a response is already under way on it (pipelining), then lets the client read it before closing.
 */
export class ClientErrorAnswers {
  /** Responses under way per socket: a raw answer must not be written into the middle of one. */
  private readonly busy = new WeakMap<object, number>();
  private readonly answered = new WeakSet<object>();

  /** `counters.headerTimeouts` counts the connections answered 408 for headers not received in time; `refusals` the other refusals. */
  constructor(
    private readonly counters?: { headerTimeouts: number },
    private readonly refusals?: RequestRefusals,
  ) {}

  /** Called for every request. */
  track(res: http.ServerResponse): void {
    const socket = res.socket;
    if (!socket) return;
    this.busy.set(socket, (this.busy.get(socket) ?? 0) + 1);
    res.once('close', () => this.busy.set(socket, (this.busy.get(socket) ?? 1) - 1));
  }

  answer(err: ClientError, socket: Duplex): void {
    // Node reports every later chunk of a refused connection again; one answer is enough.
    if (err.code === 'ECONNRESET' || socket.destroyed || this.answered.has(socket)) return;
    this.answered.add(socket);
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && this.counters) this.counters.headerTimeouts++;
    const { status, reason, kind } = clientErrorAnswer(err);
    // Counted whether or not it can be answered (below).
    if (kind) this.refusals?.refused(kind, reason, (socket as Partial<Socket>).remoteAddress);
    if (!socket.writable || (this.busy.get(socket) ?? 0) > 0) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: errorKind(status), reason });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // Closing at once could reset the connection before the client has read the answer.
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }
}
