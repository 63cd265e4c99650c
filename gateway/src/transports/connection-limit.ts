// http.max_connections over several listeners: node's server.maxConnections counts one server only.
import type net from 'node:net';

export interface SharedLimit {
  /** Connections open now, over all the servers. */
  open(): number;
  /** A new bound (a reload); connections already open stay. */
  setMax(max: number): void;
}

/**
 * Closes at once a connection that would take the open ones, over all `servers`, past `max`
 * (as node's maxConnections does for one server).
 */
export function shareConnectionLimit(servers: net.Server[], max: number): SharedLimit {
  let open = 0;
  let bound = max;
  for (const server of servers) {
    server.on('connection', (socket: net.Socket) => {
      if (open >= bound) {
        socket.destroy();
        return;
      }
      open++;
      socket.once('close', () => open--);
    });
  }
  return {
    open: () => open,
    setMax: (n) => {
      bound = n;
    },
  };
}
