// GET /api/spots/:serial/events/ with Upgrade: websocket (docs/websocket.md): the checks a post meets, then one SpotSocket per spot.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { firmwareFromUserAgent, type CommandSignal, type SpotIngest } from '../ingest/index.js';
import { JSON_CONTENT_TYPE, PB_CONTENT_TYPE, type Encoding } from '../protocol/index.js';
import type { HttpDrain } from './drain.js';
import { clip } from './error-answers.js';
import type { UpgradeRoute } from './http.js';
import { eventsPathSerial } from './ingest-route.js';
import { admitSpot, header, type AdmitSpot } from './spot-admission.js';
import { overloadBound, PausedPosts, type SpotRateGate } from './paused-readers.js';
import { SpotSocket } from './ws-connection.js';

/** Subprotocols and the encoding each one carries. */
export const SUBPROTOCOLS: ReadonlyMap<string, Encoding> = new Map([
  ['spot-json.v1', 'json'],
  ['spot-pb.v1', 'pb'],
]);

export interface WsRouteOptions {
  ingest: SpotIngest;
  commands: CommandSignal;
  /** Online tracking: a connected spot is online however long it stays silent. */
  online: { hold(serial: string): void; release(serial: string): void };
  /** Pings after half of it in silence, closes after all of it without a pong. */
  idleTimeoutMs: number;
  /** http.ws_max_message_bytes: a larger message closes the connection with 1009. */
  maxMessageBytes: number;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  drain?: HttpDrain;
  admit?: AdmitSpot;
  /** limits.spot_events_per_s: a spot over its rate has its messages read more slowly, as posts (docs/limits.md). */
  spotRate?: SpotRateGate;
}

export interface WsRoute {
  upgrade: UpgradeRoute;
  /** Spot WebSockets open now (metrics). */
  open(): number;
}

/** How long a refused upgrade's socket may linger so the client reads the answer. */
const LINGER_MS = 1000;

/** The first subprotocol of the spot's list (its order of preference) that the gateway speaks, or false. */
export function pickSubprotocol(offered: Iterable<string>): string | false {
  for (const name of offered) if (SUBPROTOCOLS.has(name)) return name;
  return false;
}

function offeredSubprotocols(req: http.IncomingMessage): string[] {
  const value = header(req, 'sec-websocket-protocol');
  return value === undefined ? [] : value.split(',').map((s) => s.trim());
}

/** An HTTP answer on the raw socket before any upgrade: the same {error, reason} body a post gets. */
function refuseUpgrade(socket: Duplex, status: number, error: string, reason: string, extra: Record<string, string> = {}): void {
  const text = JSON.stringify({ error, reason });
  const head = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]!}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Connection: close',
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

export function wsRoute(o: WsRouteOptions): WsRoute {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: o.maxMessageBytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: pickSubprotocol,
  });
  const overloaded = overloadBound(o.ingest.flow, undefined, undefined, o.spotRate);
  const paused = new PausedPosts(overloaded, o.spotRate);
  const bySerial = new Map<string, SpotSocket>();
  let open = 0;

  const upgrade: UpgradeRoute = (req, socket, head) => {
    // An upgrade request always has a URL (node leaves it undefined only on responses).
    const url = req.url!;
    const serialText = eventsPathSerial(url);
    if (serialText === null) {
      refuseUpgrade(socket, 404, 'not found', `no WebSocket at ${clip(url)}: spots open theirs on /api/spots/<serial>/events/`);
      return;
    }
    if (req.method !== 'GET') {
      refuseUpgrade(socket, 405, 'method not allowed', `${req.method} ${clip(url)}: a WebSocket opens with GET`, { Allow: 'GET, POST' });
      return;
    }
    const subprotocol = pickSubprotocol(offeredSubprotocols(req));
    if (subprotocol === false) {
      const names = [...SUBPROTOCOLS.keys()].join(', ');
      refuseUpgrade(socket, 400, 'bad request', `no supported subprotocol offered in Sec-WebSocket-Protocol: the gateway speaks ${names}`);
      return;
    }
    const admitted = admitSpot(req, serialText, { drain: o.drain, admit: o.admit, what: 'connection' });
    if (!admitted.ok) {
      refuseUpgrade(socket, admitted.status, admitted.error, admitted.reason, admitted.headers);
      return;
    }
    const encoding = SUBPROTOCOLS.get(subprotocol)!;
    server.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const serial = admitted.serial;
      const post = o.ingest.openStream({
        serial,
        contentType: encoding === 'pb' ? PB_CONTENT_TYPE : JSON_CONTENT_TYPE,
        firmwareVersion: firmwareFromUserAgent(header(req, 'user-agent')),
        numbering: admitted.numbering,
        numberingBound: admitted.numberingBound,
      });
      open++;
      o.online.hold(serial);
      // The older connection stops reading and taking commands before this one sends the waiting ones.
      const older = bySerial.get(serial);
      if (older) void older.replace();
      let unregister = (): void => {};
      const spot = new SpotSocket(ws, {
        ingest: o.ingest,
        post,
        encoding,
        idleTimeoutMs: o.idleTimeoutMs,
        logger: o.logger,
        overloaded,
        paused,
        listenCommands: (fn) => o.commands.listen(serial, fn),
        stillValid: admitted.stillValid,
        socket,
        closed: () => {
          open--;
          o.online.release(serial);
          if (bySerial.get(serial) === spot) bySerial.delete(serial);
          unregister();
        },
      });
      bySerial.set(serial, spot);
      if (o.drain) unregister = o.drain.socket(spot);
      o.logger.info({ spot: serial, subprotocol }, `spot ${serial}: WebSocket open (${subprotocol})`);
    });
  };
  return { upgrade, open: () => open };
}
