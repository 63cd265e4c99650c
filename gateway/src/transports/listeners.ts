// The listeners of http.port (HTTP, or HTTPS with TLS on) and http.plain_port beside it: one handler, one drain, one connection bound.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { shareConnectionLimit, type ConnectionBounds, type RefusalCounters } from './connection-limit.js';
import { createHttpTransport, type HttpTransportOptions } from './http.js';
import type { TlsCertificate } from './tls-certificate.js';

export interface ListenerView {
  protocol: 'http' | 'https';
  host: string;
  port: number;
}

export interface ListenerOptions {
  host: string;
  port: number;
  /** With TLS: a plain listener on this port too (0 = any free one). */
  plainPort?: number;
  /** http.max_connections and http.max_connections_per_address. */
  connections: ConnectionBounds;
  /** Counts the connections refused at those bounds. */
  refusals: RefusalCounters;
  /** A handshake not done in this time is closed (the post idle bound). */
  handshakeTimeoutMs: number;
  /** TLS on: the certificate served on `port`. */
  tls: TlsCertificate | null;
  transport: Omit<HttpTransportOptions, 'tls' | 'plain' | 'headerTimeoutMs'>;
  /** http.header_timeout_ms: request line and headers within it. */
  headerTimeoutMs: number;
}

export interface Listeners {
  app: FastifyInstance;
  /** The main server first, then the plain one: what a stop drains. */
  servers: http.Server[];
  /** The ports listened on (empty until listen() resolved). */
  views(): ListenerView[];
  /** Listens on every port; on a failure, closes what was opened and throws. */
  listen(): Promise<{ port: number; plainPort: number | null }>;
  /** SIGHUP: reads the pair again; null without TLS, else whether the new pair is served. */
  reloadTls(): boolean | null;
  /** http.max_connections or http.max_connections_per_address changed by a reload: over both listeners when there are two. */
  setConnectionBounds(bounds: ConnectionBounds): void;
  /** http.header_timeout_ms changed by a reload: for the requests that start from now. */
  setHeaderTimeout(ms: number): void;
  /** Connections open now over every listener. */
  openConnections(): number;
}

export function createListeners(o: ListenerOptions): Listeners {
  const tlsCert = o.tls;
  const { app, plain } = createHttpTransport({
    ...o.transport,
    tls: tlsCert
      ? { secureOptions: tlsCert.secureOptions, handshakeTimeoutMs: o.handshakeTimeoutMs, onHandshakeFailure: (err) => tlsCert.handshakeFailed(err) }
      : undefined,
    plain: tlsCert !== null && o.plainPort !== undefined,
    headerTimeoutMs: o.headerTimeoutMs,
  });
  const servers = plain ? [app.server, plain] : [app.server];
  // Bounds what open connections can hold (docs/api.md, Memory; docs/limits.md); further ones are closed at once.
  const shared = shareConnectionLimit(
    servers.map((server) => ({ server, plainHttp: server === plain || !tlsCert })),
    o.connections,
    o.refusals,
  );
  let bound: ListenerView[] = [];

  return {
    app,
    servers,
    views: () => bound,
    listen: async () => {
      await app.listen({ port: o.port, host: o.host });
      const port = (app.server.address() as AddressInfo).port;
      bound = [{ protocol: tlsCert ? 'https' : 'http', host: o.host, port }];
      if (!plain) return { port, plainPort: null };
      try {
        await new Promise<void>((resolve, reject) => {
          plain.once('error', reject);
          plain.listen({ port: o.plainPort, host: o.host }, () => {
            plain.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        await app.close();
        throw Object.assign(err as Error, { plainPort: o.plainPort });
      }
      const plainPort = (plain.address() as AddressInfo).port;
      bound.push({ protocol: 'http', host: o.host, port: plainPort });
      return { port, plainPort };
    },
    setConnectionBounds: (bounds) => shared.setBounds(bounds),
    setHeaderTimeout: (ms) => {
      for (const server of servers) server.headersTimeout = ms;
    },
    openConnections: () => shared.open(),
    reloadTls: () => (tlsCert ? tlsCert.reload((options) => (app.server as unknown as { setSecureContext(o: object): void }).setSecureContext(options)) : null),
  };
}
