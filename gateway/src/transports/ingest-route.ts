// POST /api/spots/:serial/events/ on the raw node request: the body is streamed into ingest, never buffered.
import type http from 'node:http';
import { checkContentEncoding, firmwareFromUserAgent, type SpotIngest, type SpotPost } from '../ingest/index.js';
import type { RequestRefusals } from '../limits/refusals.js';
import type { HttpDrain } from './drain.js';
import { clip } from './error-answers.js';
import type { RawRoute } from './http.js';
import { overloadBound, PausedPosts, type SpotRateGate } from './paused-readers.js';
import { admitSpot, header, type AdmitSpot } from './spot-admission.js';

export interface IngestRouteOptions {
  ingest: SpotIngest;
  /** A post whose body stays silent this long is cut off. */
  idleTimeoutMs: number;
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Appends in flight for one post above which reading its body pauses (back-pressure). */
  maxPendingAppends?: number;
  /**
   * Uncommitted events over all posts above which reading bodies pauses: bounds memory when the
   * disk is slower than the spots. Default 2000: 4000 held ~8 MB more at peak for no more events/s.
   */
  maxInFlightEvents?: number;
  /** While the gateway stops: new posts are refused, open ones are tracked so the stop can wait for them. */
  drain?: HttpDrain;
  /** limits.spot_events_per_s: a post whose spot is over its rate stops being read for a while (paused-readers.ts). */
  spotRate?: SpotRateGate;
  /** Spot authentication and the numbering bound (auth/spot-guard.ts), before the body is read. */
  admit?: AdmitSpot;
  /** Counts and logs the posts refused 415 for their Content-Encoding. */
  refusals?: RequestRefusals;
}

const EVENTS_PATH = /^\/api\/spots\/([^/]*)\/events\/?$/;

/** The serial (still escaped) when `url` is the path spots post to and open their WebSocket on, else null. */
export function eventsPathSerial(url: string): string | null {
  const q = url.indexOf('?');
  return EVENTS_PATH.exec(q >= 0 ? url.slice(0, q) : url)?.[1] ?? null;
}

function sendJson(res: http.ServerResponse, status: number, body: object, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

/** Refuses before reading the body; the connection closes since the body is not read. */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, error: string, reason: string, extra: Record<string, string> = {}): void {
  sendJson(res, status, { error, reason }, { Connection: 'close', ...extra });
  req.resume();
}

export function ingestRoute(options: IngestRouteOptions): RawRoute {
  // A post still decoding a large piece over several turns reads no more meanwhile (bounded memory).
  const overloaded = overloadBound(options.ingest.flow, options.maxPendingAppends, options.maxInFlightEvents, options.spotRate);
  const paused = new PausedPosts(overloaded, options.spotRate);
  return (req, res) => {
    const url = req.url ?? '/';
    const serialText = eventsPathSerial(url);
    if (serialText === null) return false;
    if (req.method !== 'POST') {
      refuse(req, res, 405, 'method not allowed', `${req.method} ${clip(url)}: spots POST their events here`, { Allow: 'POST' });
      return true;
    }
    const admitted = admitSpot(req, serialText, {
      drain: options.drain,
      admit: options.admit,
      what: 'post',
      check: (serial) => {
        const coding = checkContentEncoding(header(req, 'content-encoding'));
        if (coding.ok) return null;
        const reason = `spot ${serial}: ${coding.reason}; nothing of this post was read or stored`;
        options.refusals?.refused('content_encoding', reason, req.socket.remoteAddress);
        return { ok: false, status: 415, error: 'unsupported media type', reason, headers: { 'Accept-Encoding': 'identity' } };
      },
    });
    if (!admitted.ok) {
      refuse(req, res, admitted.status, admitted.error, admitted.reason, admitted.headers);
      return true;
    }
    const post = options.ingest.openPost({
      serial: admitted.serial,
      contentType: header(req, 'content-type'),
      firmwareVersion: firmwareFromUserAgent(header(req, 'user-agent')),
      numbering: admitted.numbering,
      numberingBound: admitted.numberingBound,
    });
    options.drain?.post(res, (reason) => {
      post.abort(reason);
      req.socket.destroy();
    });
    streamPost(req, res, post, options, overloaded, paused);
    return true;
  };
}

function streamPost(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  post: SpotPost,
  options: IngestRouteOptions,
  overloaded: (post: SpotPost) => boolean,
  paused: PausedPosts,
): void {
  const serial = post.info.serial;
  let ended = false;
  // The spot's silence: the time of its last bytes, checked when the timer fires (refreshing a
  // timer for every chunk cost more than the check, at tens of thousands of chunks a second).
  let heardAt = performance.now();
  const idleFired = (): void => {
    const silentMs = performance.now() - heardAt;
    if (silentMs < options.idleTimeoutMs) {
      idle = setTimeout(idleFired, options.idleTimeoutMs - silentMs + 1);
      return;
    }
    post.abort(`no bytes for ${options.idleTimeoutMs} ms`);
    sendJson(res, 408, { error: 'request timeout', reason: `spot ${serial}: post body silent for ${options.idleTimeoutMs} ms; events received before were stored` }, { Connection: 'close' });
    req.socket.destroySoon();
    // A client that never reads its response must not hold the socket.
    setTimeout(() => req.socket.destroy(), 1000).unref();
  };
  let idle = setTimeout(idleFired, options.idleTimeoutMs);

  req.on('data', (chunk: Buffer) => {
    heardAt = performance.now();
    post.push(chunk);
    if (overloaded(post) && !req.isPaused()) {
      // The idle timer measures the spot's silence, not ours: while paused the spot counts as heard.
      paused.add(req, post, () => (heardAt = performance.now()));
    }
  });
  req.on('end', () => {
    ended = true;
    clearTimeout(idle);
    post.finish().then(
      (outcome) => {
        if (res.destroyed) {
          if (outcome.ok) options.ingest.dropped(serial, outcome.commandIds);
          return;
        }
        if (!outcome.ok) {
          sendJson(res, 503, { error: 'store unavailable', reason: `spot ${serial}: ${outcome.reason}` }, { 'Retry-After': String(outcome.retryAfterSeconds) });
          return;
        }
        const ids = outcome.commandIds;
        if (ids.length > 0) watchCommandDelivery(res, serial, ids, options.ingest, options.idleTimeoutMs);
        res.writeHead(200, { 'Content-Type': outcome.contentType, 'Content-Length': outcome.body.length, 'Cache-Control': 'no-cache' });
        res.end(outcome.body);
      },
      (err: unknown) => {
        options.logger.error({ spot: serial, err }, `spot ${serial}: post failed: ${String(err)}`);
        sendJson(res, 500, { error: 'internal error', reason: String(err) });
      },
    );
  });
  req.on('close', () => {
    clearTimeout(idle);
    if (!ended) post.abort('client closed the connection');
  });
}

/**
 * Commands count as delivered once the reply was handed to the OS. Node also emits 'finish' when the socket
 * died under a pending write (ECONNRESET), so only a 'finish' on a live socket means written. A reply not
 * handed over within `deadlineMs` (a spot that does not read it) is cut: its connection is closed, so
 * that such spots cannot hold replies and connections without end (docs/api.md, Memory).
 */
function watchCommandDelivery(res: http.ServerResponse, serial: string, ids: number[], ingest: SpotIngest, deadlineMs: number): void {
  const socket = res.socket;
  let settled = false;
  const deadline = setTimeout(() => {
    if (!settled) socket?.destroy();
  }, deadlineMs);
  deadline.unref();
  res.once('finish', () => {
    settled = true;
    clearTimeout(deadline);
    if (socket && !socket.destroyed) ingest.delivered(serial, ids);
    else ingest.undelivered(serial, ids);
  });
  res.once('close', () => {
    clearTimeout(deadline);
    if (!settled) ingest.undelivered(serial, ids);
  });
}
