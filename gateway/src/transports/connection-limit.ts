// http.max_connections over several listeners: node's server.maxConnections counts one server only.
import type net from 'node:net';

/**
 * Closes at once a connection that would take the open ones, over all `servers`, past `max`
 * (as node's maxConnections does for one server). Returns the count of open connections.
 */
export function shareConnectionLimit(servers: net.Server[], max: number): () => number {
  let open = 0;
  for (const server of servers) {
    server.on('connection', (socket: net.Socket) => {
      if (open >= max) {
        socket.destroy();
        return;
      }
      open++;
      socket.once('close', () => open--);
    });
  }
  return () => open;
}
