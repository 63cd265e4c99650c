// The HTTP side of the composition root: both listeners (HTTPS and plain, docs/tls.md) with the spot
// routes (posts and WebSockets) and the API, the dashboard and its live feed behind the auth guard.
import type { ApiDeps } from './api/routes.js';
import { registerApi } from './api/routes.js';
import type { GatewayAuth } from './auth/index.js';
import type { GatewayConfig } from './config/index.js';
import { registerDashboard } from './dashboard/files.js';
import type { CommandSignal, OnlineTracker, SpotIngest } from './ingest/index.js';
import { registerApiRateLimit } from './limits/api-rate.js';
import type { GatewayLimits } from './limits/gateway-limits.js';
import type { LiveFeed } from './live/live-feed.js';
import { registerLiveRoute } from './live/live-route.js';
import type { GatewayLogger } from './log.js';
import type { HttpDrain } from './transports/drain.js';
import { ingestRoute } from './transports/ingest-route.js';
import { createListeners, type Listeners } from './transports/listeners.js';
import type { TlsCertificate } from './transports/tls-certificate.js';
import { wsRoute, type WsRoute } from './transports/ws-route.js';

/** GET /api/spots/:serial/events/ upgraded to a WebSocket (docs/websocket.md). */
export function spotWebSockets(
  config: GatewayConfig,
  o: { ingest: SpotIngest; commands: CommandSignal; online: OnlineTracker; drain: HttpDrain; auth: GatewayAuth; limits: GatewayLimits; logger: GatewayLogger },
): WsRoute {
  return wsRoute({
    ingest: o.ingest,
    commands: o.commands,
    online: o.online,
    idleTimeoutMs: config.http.idle_timeout_ms,
    maxMessageBytes: config.http.ws_max_message_bytes,
    logger: o.logger.child({ part: 'ws' }),
    drain: o.drain,
    admit: o.auth.admitPost,
    spotRate: o.limits.spotGate,
  });
}

export interface HttpParts {
  tls: TlsCertificate | null;
  drain: HttpDrain;
  limits: GatewayLimits;
  webSockets: WsRoute;
  ingest: SpotIngest;
  auth: GatewayAuth;
  apiDeps: ApiDeps;
  live: LiveFeed;
  /** This gateway's store instance id: its own spot-server posts coming back are refused (508). */
  instanceId: string;
  logger: GatewayLogger;
}

/** The listeners, not yet listening: the spot post route on the raw request, the rest through fastify. */
export function httpListeners(config: GatewayConfig, p: HttpParts): Listeners {
  const { drain, limits, auth } = p;
  return createListeners({
    host: config.http.host,
    port: config.http.port,
    plainPort: config.http.plain_port,
    connections: { max: config.http.max_connections, perAddress: config.http.max_connections_per_address },
    refusals: limits.counters,
    handshakeTimeoutMs: config.http.idle_timeout_ms,
    headerTimeoutMs: config.http.header_timeout_ms,
    tls: p.tls,
    transport: {
      drain,
      upgrade: p.webSockets.upgrade,
      bodyIdleTimeoutMs: config.http.idle_timeout_ms,
      timeouts: limits.counters,
      refusals: limits.refusals,
      rawRoutes: [
        ingestRoute({
          ingest: p.ingest,
          idleTimeoutMs: config.http.idle_timeout_ms,
          logger: p.logger,
          drain,
          admit: auth.admitPost,
          spotRate: limits.spotGate,
          refusals: limits.refusals,
          instanceId: p.instanceId,
        }),
      ],
      registerApi: (api) => {
        auth.register(api);
        // After the guard: a request's client is its API key or session when it has one.
        registerApiRateLimit(api, { buckets: limits.apiRate, counters: limits.counters });
        registerApi(api, p.apiDeps);
        registerLiveRoute(api, p.live);
        registerDashboard(api);
      },
    },
  });
}
