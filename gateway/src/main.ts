// Composition root: the only place that wires real sockets, files, clocks and the broker together.
import { type ApiDeps, type UpstreamView } from './api/routes.js';
import { createGatewayAuth } from './auth/index.js';
import { type GatewayConfig, type LogLevel } from './config/index.js';
import { DiskSpace } from './disk-space.js';
import { CommandSignal, IngestCounters, OnlineTracker } from './ingest/index.js';
import { GatewayLimits } from './limits/gateway-limits.js';
import { registerLimitMetrics } from './limits/metrics.js';
import { createLogger, type GatewayLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { oncePerTurn } from './once-per-turn.js';
import { type Store } from './store/index.js';
import { Liveness } from './systemd/liveness.js';
import { WriteWatch } from './systemd/write-watch.js';
import { housekeeping } from './housekeeping.js';
import { HttpDrain } from './transports/drain.js';
import { TlsCertificate } from './transports/tls-certificate.js';
import { httpListeners, spotWebSockets } from './http-parts.js';
import { Upstreams } from './upstreams.js';
import { packageVersion } from './version.js';
import { redactUrl } from './config/redact.js';
import {
  STOP_GRACE_MS,
  dashboardFeed,
  openBuffer,
  forwardSource,
  commandLimits,
  admission,
  spotIngest,
  watchedWrites,
  gatewayLiveness,
  firmwareParts,
} from './parts.js';

export interface StartOptions {
  logger?: GatewayLogger;
  now?: () => number;
}

export interface RunningGateway {
  /** The port actually listened on (config port 0 = a free one); HTTPS with TLS on. */
  port: number;
  /** The plain listener's port beside HTTPS (http.plain_port), or null. */
  plainPort: number | null;
  store: Store;
  /** Whether the store writes and the upstream moves, and a one-line status (for systemd: docs/operations.md). */
  liveness: Liveness;
  /** The log level now (PUT /api/log-level and a reload change it; child loggers follow). */
  logLevel(): LogLevel;
  /**
   * Takes over the keys that can change while running (config/reload.ts, LIVE_KEYS) from `next`;
   * with `restartUpstream` the MQTT forwarder is stopped and a new one started on next's mqtt.* keys.
   */
  applyLive(next: GatewayConfig, restartUpstream: boolean): Promise<void>;
  /** SIGHUP: reads the TLS pair again (docs/tls.md); null without TLS, else whether the new pair is served. */
  reloadTls(): boolean | null;
  /** Stops accepting, lets open posts finish (bounded), stops the forwarder, flushes and closes the store. Idempotent. */
  stop(why?: string): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const now = options.now ?? Date.now;
  const startedAt = now();
  const version = packageVersion();
  const mqttUrl = config.mqtt.url;
  const { tls_cert_file: certFile, tls_key_file: keyFile } = config.http;
  // Read first: a bad pair stops the start before anything is opened.
  const tlsCert = certFile !== undefined && keyFile !== undefined ? new TlsCertificate({ files: { certFile, keyFile }, now, logger: logger.child({ part: 'tls' }) }) : null;

  // Before the store opens: a key file it cannot read stops the start with nothing to undo.
  const flash = firmwareParts(config, logger, now);
  const store = openBuffer(config, logger, now);
  const counters = new IngestCounters();
  let auth;
  try {
    auth = createGatewayAuth({
      config: config.auth,
      dataDir: config.data_dir,
      numberingOf: (serial) => store.numberingOf(serial),
      counters,
      now,
      logger: logger.child({ part: 'auth' }),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const storeStatus = oncePerTurn(() => store.status());
  const limits = commandLimits(config);
  // A command queued for a spot connected over WebSocket goes out at once (docs/websocket.md).
  const commandSignal = new CommandSignal();
  const commandAdmission = admission(config, limits, store, counters, now, commandSignal);
  // MQTT and the spot server, each on its own cursors; a reload may replace either (upstreams.ts).
  const upstream = new Upstreams(config, { store, storeStatus, source: forwardSource(store, storeStatus), commandAdmission, logger, now });
  const upstreams = (): UpstreamView[] => upstream.views();
  const disk = new DiskSpace({ dir: config.data_dir, warnPercent: config.buffer.disk_warn_percent, now });
  const online = new OnlineTracker({
    offlineAfterMs: config.spots.offline_after_s * 1000,
    now,
    onChange: (serial, state) => {
      logger.info({ spot: serial, state }, `spot ${serial}: ${state}`);
      upstream.spotState(serial, state);
    },
  });
  // Spot posts wait for their writes: one waiting too long means the disk hangs (systemd/liveness.ts).
  const writes = new WriteWatch(now);
  // docs/limits.md: a bucket per spot (events) and per API client (requests), their rates live.
  const clientLimits = new GatewayLimits(config, logger, now);
  const heard = (serial: string): void => {
    online.heard(serial);
    upstream.heard(serial);
  };
  // A spot's WebSocket waiting behind a post's reply that held its commands is sent them once it is settled.
  const ingest = spotIngest(config, watchedWrites(store, writes), counters, heard, logger, now, clientLimits.spotRate, (serial) => commandSignal.queued(serial));
  const drain = new HttpDrain();
  const webSockets = spotWebSockets(config, { ingest, commands: commandSignal, online, drain, auth, limits: clientLimits, logger });
  const metrics = createMetrics({
    counters: ingest.counters,
    storeStatus,
    spotsOnline: () => online.onlineCount(),
    wsConnections: () => webSockets.open(),
    spotsKnown: () => store.spots.count(),
    upstreams,
    tls: tlsCert,
    flashJobs: flash.jobs,
    disk: () => disk.reading(),
  });
  auth.registerMetrics(metrics);
  registerLimitMetrics(metrics, clientLimits.counters, () => listeners.openConnections(), clientLimits.refusals);
  const apiDeps: ApiDeps = {
    store,
    storeStatus,
    online,
    upstreams,
    counters: ingest.counters,
    metrics,
    commandAdmission,
    upstreamDownDegradedMs: config.mqtt.degraded_after_s * 1000,
    upstreamStalledMs: config.mqtt.stalled_after_s * 1000,
    disk,
    ops: {
      logLevel: () => logger.level,
      setLogLevel: (level) => {
        logger.level = level;
      },
      backup: (file) => store.backup(file),
      dataDir: config.data_dir,
      now,
      logger,
    },
    gatewayId: config.gateway.id,
    version,
    startedAt,
    now,
    logger,
    tls: tlsCert,
    listeners: () => listeners.views(),
    firmware: flash.firmware,
    auth: () => auth.view(),
  };
  const live = dashboardFeed(store, apiDeps, flash.jobs, logger);
  const listeners = httpListeners(config, { tls: tlsCert, drain, limits: clientLimits, webSockets, ingest, auth, apiDeps, live, instanceId: store.instanceId, logger });
  const { app } = listeners;
  const timers = housekeeping(store, config, now, logger);

  let bound: { port: number; plainPort: number | null };
  try {
    bound = await listeners.listen();
  } catch (err) {
    timers.stop();
    await store.close();
    auth.close();
    throw err;
  }
  online.start();
  upstream.start();
  const { port, plainPort } = bound;
  const scheme = tlsCert ? 'https' : 'http';
  const plainText = plainPort === null ? '' : ` (plain http on ${config.http.host}:${plainPort})`;
  logger.info(
    { port, plainPort, tls: tlsCert !== null, host: config.http.host, dataDir: config.data_dir, mqtt: mqttUrl ? redactUrl(mqttUrl) : null, spotServer: upstream.currentSpotServer() !== null, instanceId: store.instanceId, version },
    `listening on ${config.http.host}:${port} (${scheme})${plainText}; buffer in ${config.data_dir}; ${mqttUrl ? `forwarding to ${redactUrl(mqttUrl)}` : 'no MQTT upstream'}`,
  );
  const liveness = gatewayLiveness(now, storeStatus, writes, online, () => upstream.currentMqtt(), () => upstream.currentSpotServer());

  let stopping: Promise<void> | null = null;
  return {
    port,
    plainPort,
    store,
    liveness,
    logLevel: () => logger.level as LogLevel,
    applyLive: (next, restartUpstream) => {
      logger.level = next.log.level;
      listeners.setConnectionBounds({ max: next.http.max_connections, perAddress: next.http.max_connections_per_address });
      listeners.setHeaderTimeout(next.http.header_timeout_ms);
      clientLimits.apply(next);
      limits.maxQueuedPerSpot = next.commands.max_queued_per_spot;
      limits.maxQueuedBytesPerSpot = next.commands.max_queued_bytes_per_spot;
      apiDeps.upstreamDownDegradedMs = next.mqtt.degraded_after_s * 1000;
      apiDeps.upstreamStalledMs = next.mqtt.stalled_after_s * 1000;
      disk.setWarnPercent(next.buffer.disk_warn_percent);
      return upstream.apply(next, restartUpstream);
    },
    reloadTls: () => listeners.reloadTls(),
    stop: (why) => {
      stopping ??= (async () => {
        const openPosts = drain.openPosts;
        const openSockets = drain.openSockets;
        logger.info(
          { why: why ?? null, openPosts, openSockets, graceMs: STOP_GRACE_MS },
          `stopping${why ? ` (${why})` : ''}: ${openPosts} spot post(s) and ${openSockets} WebSocket(s) open, ${STOP_GRACE_MS} ms to finish`,
        );
        upstream.refuseReplacements();
        timers.stop();
        online.stop();
        live.stop();
        // HTTP first (docs/architecture.md, Stopping): nothing new is acknowledged once the store closes.
        const drained = drain.drain(listeners.servers, STOP_GRACE_MS);
        const closed = app.close();
        // A running flash job ends interrupted; the device keeps what it received (docs/firmware-store.md).
        const jobsStopped = flash.jobs.stop();
        const { cut } = await drained;
        await closed;
        await jobsStopped;
        await upstream.stop();
        await store.close();
        auth.close();
        logger.info({ openPosts, cut }, 'stopped');
      })();
      return stopping;
    },
  };
}
