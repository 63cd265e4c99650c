// http.max_connections and http.max_connections_per_address over every listener (docs/limits.md).
import type net from 'node:net';

export interface ConnectionBounds {
  /** Open connections over all the servers. */
  max: number;
  /** Open connections from one address; 0 = no bound but `max`. */
  perAddress: number;
}

export interface SharedLimit {
  /** Connections open now, over all the servers. */
  open(): number;
  /** New bounds (a reload); connections already open stay. */
  setBounds(bounds: ConnectionBounds): void;
}

export interface LimitedServer {
  server: net.Server;
  /** A plain HTTP server: a refused connection is told why (503) before it closes. Over TLS nothing can be said before a handshake. */
  plainHttp: boolean;
}

export interface RefusalCounters {
  refusedMaxConnections: number;
  refusedPerAddress: number;
}

/** Seconds a client refused at the connection bound is told to wait. */
export const REFUSED_RETRY_AFTER_S = 1;
/** How long a refused plain connection may linger for the client to read the answer. */
const LINGER_MS = 1000;

/**
 * Closes at once a connection that would take the open ones past `max` over all `servers`, or
 * those from its address past `perAddress` (node's maxConnections counts one server, and no address).
 */
export function shareConnectionLimit(servers: LimitedServer[], initial: ConnectionBounds, counters: RefusalCounters): SharedLimit {
  let open = 0;
  let bounds = { ...initial };
  const byAddress = new Map<string, number>();
  for (const { server, plainHttp } of servers) {
    server.on('connection', (socket: net.Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      const fromAddress = byAddress.get(address) ?? 0;
      const reason =
        open >= bounds.max ? `the gateway holds its ${bounds.max} connections (http.max_connections)`
        : bounds.perAddress > 0 && fromAddress >= bounds.perAddress ? `${address} holds ${fromAddress} connections, the most one address may (http.max_connections_per_address)`
        : null;
      if (reason !== null) {
        if (open >= bounds.max) counters.refusedMaxConnections++;
        else counters.refusedPerAddress++;
        refuse(socket, plainHttp, reason);
        return;
      }
      open++;
      byAddress.set(address, fromAddress + 1);
      let held = true;
      const release = (): void => {
        if (!held) return;
        held = false;
        open--;
        const left = byAddress.get(address)! - 1;
        if (left > 0) byAddress.set(address, left);
        else byAddress.delete(address);
      };
      // The gateway's side ended (an answer with Connection: close written, a 408 or a parser refusal): the
      // slot is free at once, not after the second such a connection may linger for its client to read it.
      socket.once('finish', release);
      socket.once('close', release);
    });
  }
  return {
    open: () => open,
    setBounds: (next) => {
      bounds = { ...next };
    },
  };
}

/** Nothing of the connection is read (the HTTP parser sees no bytes); a plain one gets a 503 first. */
function refuse(socket: net.Socket, plainHttp: boolean, reason: string): void {
  if (!plainHttp) {
    socket.destroy();
    return;
  }
  socket.pause();
  socket.on('error', () => socket.destroy());
  const body = JSON.stringify({ error: 'service unavailable', reason: `connection refused: ${reason}; try again later` });
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Retry-After: ${REFUSED_RETRY_AFTER_S}\r\nConnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
