// The local JSON API: spots, events, rejected messages, status, health, metrics, OpenAPI.
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { DiskReading } from '../disk-space.js';
import type { IngestCounters } from '../ingest/counters.js';
import { parseSerial } from '../ingest/headers.js';
import { histogramSummary, type HistogramSnapshot } from '../duration-histogram.js';
import type { Store, StoreStatus } from '../store/types.js';
import type { CommandAdmission } from './command-admission.js';
import { registerCommandRoutes } from './commands.js';
import { registerFlashRoutes, type FlashRoutesDeps } from './flash.js';
import { registerImageRoutes, type ImageRoutesDeps } from './images.js';
import { badRequest, intParam } from './errors.js';
import { openApiDocument } from './openapi.js';
import { registerOpsRoutes, type OpsDeps } from './ops.js';
import { quarantineProblem, registerQuarantineRoutes, type Resend } from './quarantine.js';
import { registerSpotRoutes } from './spots.js';
import { eventView, rejectedView } from './views.js';

export interface UpstreamView {
  name: string;
  status(): {
    state: string;
    downSinceMs: number | null;
    lagEvents: number | null;
    ratePerSec: number;
    refused: number;
    acked: number;
    published: number;
    inFlight: number;
    lastError: string | null;
    reconnects: number;
    delivery: HistogramSnapshot;
    quarantined: number;
    noAckSinceMs: number | null;
    reconnectsSinceAck: number;
    poisonSuspect: { spot: string; eventId: number; strikes: number; withheld: boolean } | null;
  };
  /** Publishes a quarantined event of this upstream again. */
  resend?: Resend;
  /** What makes /healthz say degraded at once, beyond the state above (the spot server being this gateway itself). */
  problem?: () => string | null;
  /** Fields of this kind of upstream only, added to its entry in /api/status (the spot server's spots and commands). */
  extra?: () => Record<string, number>;
}

export interface ApiDeps {
  store: Store;
  /** The store's status, read once per turn (a request reads it in several places; main.ts). */
  storeStatus: () => StoreStatus;
  online: { isOnline(serial: string): boolean; onlineCount(): number };
  upstreams: () => UpstreamView[];
  counters: IngestCounters;
  metrics: Registry;
  /** Size, content and queue bounds of a command before it is queued (shared with MQTT commands). */
  commandAdmission: CommandAdmission;
  /** An upstream without a connection this long makes /healthz say degraded. */
  upstreamDownDegradedMs: number;
  /** An upstream connected with a backlog that acknowledged nothing this long makes /healthz say degraded. */
  upstreamStalledMs: number;
  /** The data filesystem's fill level (disk-space.ts). */
  disk: { reading(): DiskReading; problem(): string | null };
  /** Log level at run time and the online backup (api/ops.ts). */
  ops: OpsDeps;
  gatewayId: string;
  version: string;
  startedAt: number;
  now: () => number;
  logger: { info(obj: object, msg: string): void };
  /** TLS on: the certificate served (docs/tls.md); null or absent: plain HTTP. */
  tls?: { problems(): string[]; view(): Record<string, unknown> } | null;
  /** The ports listened on, for /api/status. */
  listeners?: () => Array<{ protocol: string; host: string; port: number }>;
  /** Stored images and flash jobs (docs/firmware-store.md). */
  firmware: ImageRoutesDeps & FlashRoutesDeps;
  /** What authentication is on and what it leaves open (docs/security.md); /healthz shows it. */
  auth?: () => object;
}

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/healthz', async (_request, reply) => {
    // Alive = serving (200 either way); what needs a look (healthProblems) makes it degraded.
    const reasons = healthProblems(deps);
    const body = { status: reasons.length > 0 ? 'degraded' : 'ok', reason: reasons.length > 0 ? reasons.join('; ') : null };
    return reply.code(200).send(deps.auth ? { ...body, auth: deps.auth() } : body);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.metrics();
    return reply.type(deps.metrics.contentType).send(text);
  });

  app.get('/api/openapi.json', async () => openApiDocument(deps.version));

  registerSpotRoutes(app, { spots: deps.store.spots, isOnline: (serial) => deps.online.isOnline(serial) });

  app.get<{ Querystring: { spot?: string; after?: string; limit?: string } }>('/api/events', async (request, reply) => {
    const { query } = request;
    const spot = spotParam(query.spot);
    if (!spot.ok) return badRequest(reply, spot.reason);
    const after = intParam(query.after, 'after', 0, Number.MAX_SAFE_INTEGER);
    if (typeof after === 'string') return badRequest(reply, after);
    const limit = intParam(query.limit, 'limit', 1, 10000);
    if (typeof limit === 'string') return badRequest(reply, limit);
    return deps.store.listEvents({ spot: spot.value, after: after ?? 0, limit: limit ?? 100 }).map(eventView);
  });

  app.get<{ Querystring: { spot?: string; limit?: string } }>('/api/rejected', async (request, reply) => {
    const spot = spotParam(request.query.spot);
    if (!spot.ok) return badRequest(reply, spot.reason);
    const limit = intParam(request.query.limit, 'limit', 1, 10000);
    if (typeof limit === 'string') return badRequest(reply, limit);
    return deps.store.rejected.list({ limit: limit ?? 100, spot: spot.value }).map(rejectedView);
  });

  app.get('/api/status', async () => statusView(deps));

  registerQuarantineRoutes(app, { store: deps.store, upstreams: deps.upstreams });
  registerCommandRoutes(app, { store: deps.store, admission: deps.commandAdmission, logger: deps.logger });
  registerImageRoutes(app, deps.firmware);
  registerFlashRoutes(app, deps.firmware);
  registerOpsRoutes(app, deps.ops);
}

/** The optional `spot` query parameter: a serial, or undefined (absent or empty: every spot). */
function spotParam(text: string | undefined): { ok: true; value: string | undefined } | { ok: false; reason: string } {
  if (text === undefined || text === '') return { ok: true, value: undefined };
  const serial = parseSerial(text);
  return serial.ok ? { ok: true, value: serial.value } : { ok: false, reason: `spot: ${serial.reason}` };
}

/** A drop by the size cap keeps /healthz degraded this long. */
const RECENT_DROP_MS = 60_000;

/**
 * What /healthz reports: the store's last error, the TLS certificate (a refused reload, near
 * expiry), the size cap losing or refusing events, the data filesystem above
 * buffer.disk_warn_percent, each upstream down or stalled for too long or with quarantined events.
 */
export function healthProblems(deps: ApiDeps): string[] {
  const problems: string[] = [];
  const store = deps.storeStatus();
  const now = deps.now();
  if (store.lastError) problems.push(store.lastError);
  if (deps.tls) problems.push(...deps.tls.problems());
  const disk = deps.disk.problem();
  if (disk) problems.push(disk);
  const cap = `${Math.round((store.maxBytes / 1048576) * 10) / 10} MiB`;
  if (store.lastDropAtMs !== null && now - store.lastDropAtMs < RECENT_DROP_MS) {
    const ago = Math.round((now - store.lastDropAtMs) / 1000);
    problems.push(`buffer at its cap of ${cap}: ${store.dropped} events dropped so far (policy drop-oldest), the last ${ago} s ago`);
  }
  if (store.refusing) problems.push(`buffer full (cap ${cap}, policy reject): spots' posts are answered 503 until forwarded events make room`);
  for (const upstream of deps.upstreams()) {
    const s = upstream.status();
    if (s.noAckSinceMs !== null && now - s.noAckSinceMs >= deps.upstreamStalledMs) {
      const lag = s.lagEvents === null ? 'events' : `${s.lagEvents} events`;
      const how = s.reconnectsSinceAck > 0 ? `reconnected ${s.reconnectsSinceAck} times meanwhile` : 'connected';
      problems.push(`upstream ${upstream.name} has acknowledged nothing for ${Math.round((now - s.noAckSinceMs) / 1000)} s while ${lag} wait (${how})`);
    }
    const own = upstream.problem?.();
    if (own) problems.push(own);
    if (s.quarantined > 0) problems.push(quarantineProblem(upstream.name, s.quarantined));
    const w = s.poisonSuspect;
    if (w?.withheld) {
      problems.push(`upstream ${upstream.name}: the broker dropped the connection ${w.strikes} times with event ${w.eventId} of spot ${w.spot} alone in flight and has taken no event since the last quarantine; events wait in the buffer`);
    }
    // A spot server that is this gateway itself is said above, at once and with the reason.
    if (own || s.downSinceMs === null || now - s.downSinceMs < deps.upstreamDownDegradedMs) continue;
    const why = s.lastError ? `: ${s.lastError}` : '';
    problems.push(`upstream ${upstream.name} without a connection for ${Math.round((now - s.downSinceMs) / 1000)} s${why}`);
  }
  return problems;
}

export function statusView(deps: ApiDeps): Record<string, unknown> {
  const store = deps.storeStatus();
  const upstreams: Record<string, unknown> = {};
  for (const upstream of deps.upstreams()) {
    const s = upstream.status();
    const pending = deps.store.pendingSpots(upstream.name);
    const perStore = store.perUpstream[upstream.name];
    upstreams[upstream.name] = {
      state: s.state,
      // Lowest per-spot cursor among spots with a backlog: everything below it is forwarded.
      cursor: pending.length > 0 ? pending.reduce((min, p) => Math.min(min, p.cursor), Infinity) : null,
      lag: s.lagEvents ?? perStore?.pending ?? null,
      spotsPending: perStore?.spotsPending ?? pending.length,
      rate: s.ratePerSec,
      drops: store.dropped,
      refused: s.refused,
      published: s.published,
      acked: s.acked,
      inFlight: s.inFlight,
      reconnects: s.reconnects,
      quarantined: s.quarantined,
      noAckSinceMs: s.noAckSinceMs,
      reconnectsSinceAck: s.reconnectsSinceAck,
      poisonSuspect: s.poisonSuspect,
      delivery: histogramSummary(s.delivery),
      lastError: s.lastError,
      ...upstream.extra?.(),
    };
  }
  return {
    gateway: { id: deps.gatewayId, version: deps.version, instanceId: deps.store.instanceId, uptimeS: Math.round((deps.now() - deps.startedAt) / 1000) },
    buffer: {
      events: store.events,
      bytes: store.bytes,
      maxBytes: store.maxBytes,
      policy: store.policy,
      oldestUnforwardedAgeMs: store.oldestUnforwardedAgeMs,
      dropped: store.dropped,
      duplicates: store.duplicates,
      rejected: store.rejected,
      commits: store.commits,
      walFsync: histogramSummary(store.walSync),
      lastError: store.lastError,
      retainMs: store.retainMs,
      historyFrom: store.historyFrom,
    },
    upstreams,
    ingest: { ...deps.counters },
    spots: { known: deps.store.spots.count(), online: deps.online.onlineCount() },
    listeners: deps.listeners?.() ?? [],
    tls: deps.tls?.view() ?? null,
    disk: diskView(deps.disk.reading()),
  };
}

function diskView(r: DiskReading): Record<string, unknown> {
  return {
    path: r.path,
    usedPercent: Math.round(r.usedRatio * 1000) / 10,
    availableBytes: r.availableBytes,
    totalBytes: r.totalBytes,
    warnPercent: r.warnPercent,
    warning: r.warning,
    error: r.error,
  };
}
