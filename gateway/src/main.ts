// Composition root: the only place that wires real sockets, files, clocks and the broker together.
import path from 'node:path';
import { CommandAdmission, type CommandLimits } from './api/command-admission.js';
import { checkCommand } from './api/command-check.js';
import { healthProblems, registerApi, statusView, type ApiDeps, type UpstreamView } from './api/routes.js';
import { createGatewayAuth } from './auth/index.js';
import { ConfigError, parseDuration, type GatewayConfig, type LogLevel } from './config/index.js';
import { registerDashboard } from './dashboard/files.js';
import { DiskSpace } from './disk-space.js';
import { IngestCounters, OnlineTracker, SpotIngest, type IngestDeps } from './ingest/index.js';
import { LiveFeed } from './live/live-feed.js';
import { registerLiveRoute } from './live/live-route.js';
import { liveSnapshot } from './live/snapshot.js';
import { SpotActivity } from './live/spot-activity.js';
import { recentOfSpot } from './live/page-events.js';
import { FlashJobs } from './flash/flash-jobs.js';
import { ImageStore } from './flash/image-store.js';
import { portRules } from './flash/port-rules.js';
import { readTrustedKeys } from './flash/trusted-keys.js';
import { createLogger, type GatewayLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { decodeFrame } from './protocol/index.js';
import { oncePerTurn } from './once-per-turn.js';
import { openSerialPort } from './smp/serial-port.js';
import { openStore, type Store, type StoreStatus } from './store/index.js';
import { Liveness } from './systemd/liveness.js';
import { WriteWatch } from './systemd/write-watch.js';
import { housekeeping } from './housekeeping.js';
import { HttpDrain } from './transports/drain.js';
import { ingestRoute } from './transports/ingest-route.js';
import { createListeners } from './transports/listeners.js';
import { TlsCertificate } from './transports/tls-certificate.js';
import { type ForwardSource, MqttForwarder, type SpotCommand, type TlsFiles } from './upstream/index.js';
import { packageVersion } from './version.js';

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

const MQTT_UPSTREAM = 'mqtt';
/** A spot post lasts about a second: one started just before a stop can still end and be answered. */
const STOP_GRACE_MS = 2000;

/** Commands arriving from the broker pass the same admission as REST ones; a refusal throws, and the intake logs and counts it. */
function queueBrokerCommand(admission: CommandAdmission, logger: GatewayLogger, command: SpotCommand): void {
  const admitted = admission.admit(command.spot, command, 'mqtt');
  if (!admitted.ok) throw new Error(admitted.reason);
  logger.info({ spot: command.spot, command: admitted.command.id }, `spot ${command.spot}: command ${admitted.command.id} queued (mqtt)`);
}

/** The dashboard's live feed (GET /api/live), fed by every commit; timers only while a client watches. */
function dashboardFeed(store: Store, deps: ApiDeps, jobs: FlashJobs, logger: GatewayLogger): LiveFeed {
  const activity = new SpotActivity({ now: deps.now });
  const live = new LiveFeed({
    snapshot: () =>
      liveSnapshot({
        status: () => statusView(deps),
        healthProblems: () => healthProblems(deps),
        spots: () => store.spots.list(),
        isOnline: (serial) => deps.online.isOnline(serial),
        activity,
        flashJobs: () => jobs.running(),
        now: deps.now,
      }),
    recent: (spot) => recentOfSpot(store, activity, spot),
    timers: { setInterval: (fn, ms) => setInterval(fn, ms), clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout) },
    logger: logger.child({ part: 'live' }),
  });
  store.onAppended((spot, _lastId, events) => {
    // Without events: a hand-over after a failed fsync (storage.md); those events show in /api/events, not live.
    if (events) live.publish(activity.record(spot, events));
  });
  return live;
}

/** buffer.retain in ms (loadConfig checked it). */
function retainMsOf(config: GatewayConfig): number {
  const retain = parseDuration(config.buffer.retain);
  if (!retain.ok) throw new Error(`buffer.retain: ${retain.reason}`);
  return retain.ms;
}

/** The store as the config says: buffer size, policy, durability, an upstream cursor for MQTT when configured. */
function openBuffer(config: GatewayConfig, logger: GatewayLogger, now: () => number): Store {
  return openStore({
    dataDir: config.data_dir,
    durability: config.buffer.durability,
    forwardAfterCommit: config.buffer.forward === 'after-commit',
    maxBytes: Math.round(config.buffer.max_mb * 1024 * 1024),
    policy: config.buffer.policy,
    retainMs: retainMsOf(config),
    upstreams: config.mqtt.url ? [MQTT_UPSTREAM] : [],
    logger: logger.child({ part: 'store' }),
    now,
  });
}

/** The forwarder's view of the store, with the status read once per turn (its lag is the store's pending count). */
function forwardSource(store: Store, storeStatus: () => StoreStatus): ForwardSource {
  return {
    instanceId: store.instanceId,
    pendingSpots: (upstream) => store.pendingSpots(upstream),
    readSpot: (upstream, spot, afterId, limit) => store.readSpot(upstream, spot, afterId, limit),
    advanceCursor: (upstream, spot, id) => store.advanceCursor(upstream, spot, id),
    cursor: (upstream, spot) => store.cursor(upstream, spot),
    onAppended: (listener) => store.onAppended(listener),
    quarantine: store.quarantine,
    status: storeStatus,
  };
}

/** The mqtt.tls_* keys (an empty file name: none). */
function tlsFiles(config: GatewayConfig): TlsFiles {
  const { tls_ca_file: ca, tls_cert_file: cert, tls_key_file: key, tls_verify_server_name: verifyServerName } = config.mqtt;
  return { verifyServerName, ...(ca ? { caFile: ca } : {}), ...(cert ? { certFile: cert } : {}), ...(key ? { keyFile: key } : {}) };
}

function mqttForwarder(config: GatewayConfig, url: string, source: ForwardSource, admission: CommandAdmission, logger: GatewayLogger, now: () => number): MqttForwarder {
  return new MqttForwarder({
    url,
    gatewayId: config.gateway.id,
    source,
    topicPrefix: config.mqtt.topic_prefix,
    maxInFlight: config.mqtt.max_in_flight,
    poisonAfterDrops: config.mqtt.poison_after_drops,
    outageMs: config.mqtt.degraded_after_s * 1000,
    maxCommandBytes: config.commands.max_bytes,
    tls: tlsFiles(config),
    upstreamName: MQTT_UPSTREAM,
    logger: logger.child({ part: 'mqtt' }),
    now,
    onCommand: (command) => queueBrokerCommand(admission, logger, command),
    decodePbCommand: (frame) => {
      const decoded = decodeFrame(frame);
      return decoded.ok ? { ok: true, value: decoded.event } : decoded;
    },
  });
}

function commandLimits(config: GatewayConfig): CommandLimits {
  return {
    maxBytes: config.commands.max_bytes,
    maxQueuedPerSpot: config.commands.max_queued_per_spot,
    maxQueuedBytesPerSpot: config.commands.max_queued_bytes_per_spot,
  };
}

/** Commands from the API and the broker pass the same bounds (docs/api.md); `limits` is read at each command (a reload changes it). */
function admission(config: GatewayConfig, limits: CommandLimits, store: Store, counters: IngestCounters, now: () => number): CommandAdmission {
  return new CommandAdmission({
    store,
    check: checkCommand,
    limits,
    ttlMs: Math.round(config.commands.ttl_s * 1000),
    now,
    counters,
  });
}

function spotIngest(
  config: GatewayConfig,
  store: IngestDeps['store'],
  counters: IngestCounters,
  online: OnlineTracker,
  logger: GatewayLogger,
  now: () => number,
): SpotIngest {
  return new SpotIngest({
    store,
    counters,
    now,
    logger: logger.child({ part: 'ingest' }),
    maxEventBytes: config.ingest.max_event_bytes,
    maxRejectedPerPost: config.ingest.max_rejected_per_post,
    maxReplyBytes: config.commands.max_reply_bytes,
    heard: (serial) => online.heard(serial),
  });
}

/** What ingest needs of the store; each append is timed by the write watch (systemd/liveness.ts). */
function watchedWrites(store: Store, writes: WriteWatch): IngestDeps['store'] {
  return {
    appendWith: (events, done) => store.appendWith(events, writes.track(done)),
    commands: store.commands,
    spots: store.spots,
    rejected: store.rejected,
  };
}

/** What systemd's watchdog and STATUS= line look at: store writes, the backlog, the upstream's progress. */
function gatewayLiveness(
  now: () => number,
  storeStatus: () => StoreStatus,
  writes: WriteWatch,
  online: OnlineTracker,
  currentForwarder: () => MqttForwarder | null,
): Liveness {
  return new Liveness({
    now,
    storeError: () => storeStatus().lastError,
    storeWaitingMs: () => writes.waitingMs(),
    spotsOnline: () => online.onlineCount(),
    backlog: () => (currentForwarder() ? (storeStatus().perUpstream[MQTT_UPSTREAM]?.pending ?? 0) : storeStatus().events),
    upstream: () => {
      const forwarder = currentForwarder();
      if (!forwarder) return null;
      const f = forwarder.status();
      // A refused message is an answer from the broker too: the forwarder moves past it.
      return { name: MQTT_UPSTREAM, state: f.state, acked: f.acked + f.refused, backlog: f.lagEvents, inFlight: f.inFlight, downSinceMs: f.downSinceMs };
    },
  });
}

/** Stored images and flash jobs (docs/firmware-store.md); throws ConfigError for a key file or port pattern it cannot use. */
function firmwareParts(config: GatewayConfig, logger: GatewayLogger, now: () => number): { images: ImageStore; jobs: FlashJobs; firmware: ApiDeps['firmware'] } {
  // loadConfig checked both (firmwareFault); a key file changed since, or a config not loaded from a file, is refused here.
  const keys = readTrustedKeys(config.firmware.trusted_keys);
  if (!keys.ok) throw new ConfigError(`firmware.trusted_keys: ${keys.reason}`);
  const ports = portRules(config.firmware.ports);
  if (!ports.ok) throw new ConfigError(`firmware.ports: ${ports.reason}`);
  const log = logger.child({ part: 'flash' });
  const images = new ImageStore({
    dir: path.join(config.data_dir, 'images'),
    rules: { keys: keys.keys, target: config.firmware.target, requireTarget: config.firmware.require_target },
    maxImages: config.firmware.max_images,
    logger: log,
  });
  const jobs = new FlashJobs({ readImage: (hash) => images.read(hash), open: openSerialPort, now, logger: log });
  return { images, jobs, firmware: { images, jobs, checkPort: (port) => ports.rules.check(port), maxImageBytes: config.firmware.max_image_bytes } };
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
  const commandAdmission = admission(config, limits, store, counters, now);
  const source = forwardSource(store, storeStatus);
  // `let`: a reload that changes the upstream's keys replaces it (applyLive); everything reads it through these closures.
  let forwarder = mqttUrl ? mqttForwarder(config, mqttUrl, source, commandAdmission, logger, now) : null;
  const upstreams = (): UpstreamView[] => {
    const f = forwarder;
    return f ? [{ name: MQTT_UPSTREAM, status: () => f.status(), resend: (id) => f.resend(id) }] : [];
  };
  const disk = new DiskSpace({ dir: config.data_dir, warnPercent: config.buffer.disk_warn_percent, now });
  const online = new OnlineTracker({
    offlineAfterMs: config.spots.offline_after_s * 1000,
    now,
    onChange: (serial, state) => {
      logger.info({ spot: serial, state }, `spot ${serial}: ${state}`);
      forwarder?.publishSpotState(serial, state);
    },
  });
  // Spot posts wait for their writes: one waiting too long means the disk hangs (systemd/liveness.ts).
  const writes = new WriteWatch(now);
  const ingest = spotIngest(config, watchedWrites(store, writes), counters, online, logger, now);
  const metrics = createMetrics({
    counters: ingest.counters,
    storeStatus,
    spotsOnline: () => online.onlineCount(),
    spotsKnown: () => store.spots.count(),
    upstreams,
    tls: tlsCert,
    flashJobs: flash.jobs,
    disk: () => disk.reading(),
  });
  auth.registerMetrics(metrics);
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
  const drain = new HttpDrain();
  const listeners = createListeners({
    host: config.http.host,
    port: config.http.port,
    plainPort: config.http.plain_port,
    maxConnections: config.http.max_connections,
    handshakeTimeoutMs: config.http.idle_timeout_ms,
    tls: tlsCert,
    transport: {
      drain,
      rawRoutes: [ingestRoute({ ingest, idleTimeoutMs: config.http.idle_timeout_ms, logger, drain, admit: auth.admitPost })],
      registerApi: (api) => {
        auth.register(api);
        registerApi(api, apiDeps);
        registerLiveRoute(api, live);
        registerDashboard(api);
      },
    },
  });
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
  forwarder?.start();
  const { port, plainPort } = bound;
  const scheme = tlsCert ? 'https' : 'http';
  const plainText = plainPort === null ? '' : ` (plain http on ${config.http.host}:${plainPort})`;
  logger.info(
    { port, plainPort, tls: tlsCert !== null, host: config.http.host, dataDir: config.data_dir, mqtt: mqttUrl ?? null, instanceId: store.instanceId, version },
    `listening on ${config.http.host}:${port} (${scheme})${plainText}; buffer in ${config.data_dir}; ${mqttUrl ? `forwarding to ${mqttUrl}` : 'no MQTT upstream'}`,
  );
  const liveness = gatewayLiveness(now, storeStatus, writes, online, () => forwarder);

  let stopping: Promise<void> | null = null;
  let swapping: Promise<void> = Promise.resolve();
  /** The old forwarder stops (its in-flight events stay above the cursors and go again), then the new one starts. */
  const replaceForwarder = async (next: GatewayConfig): Promise<void> => {
    const old = forwarder;
    if (!old || !next.mqtt.url || stopping) return;
    try {
      await old.stop();
    } catch (err) {
      logger.warn({ reason: String(err) }, `mqtt: the old upstream did not stop cleanly (${String(err)}); starting the new one`);
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have begun while the old forwarder stopped
    if (stopping) return;
    forwarder = mqttForwarder(next, next.mqtt.url, source, commandAdmission, logger, now);
    forwarder.start();
    logger.info({ mqtt: next.mqtt.url.replace(/\/\/[^@/]*@/, '//***@') }, 'mqtt: upstream restarted with the reloaded configuration');
  };
  return {
    port,
    plainPort,
    store,
    liveness,
    logLevel: () => logger.level as LogLevel,
    applyLive: (next, restartUpstream) => {
      logger.level = next.log.level;
      listeners.setMaxConnections(next.http.max_connections);
      limits.maxQueuedPerSpot = next.commands.max_queued_per_spot;
      limits.maxQueuedBytesPerSpot = next.commands.max_queued_bytes_per_spot;
      apiDeps.upstreamDownDegradedMs = next.mqtt.degraded_after_s * 1000;
      apiDeps.upstreamStalledMs = next.mqtt.stalled_after_s * 1000;
      disk.setWarnPercent(next.buffer.disk_warn_percent);
      if (restartUpstream) swapping = swapping.then(() => replaceForwarder(next));
      return swapping;
    },
    reloadTls: () => listeners.reloadTls(),
    stop: (why) => {
      stopping ??= (async () => {
        const openPosts = drain.openPosts;
        logger.info({ why: why ?? null, openPosts, graceMs: STOP_GRACE_MS }, `stopping${why ? ` (${why})` : ''}: ${openPosts} spot post(s) open, ${STOP_GRACE_MS} ms to finish`);
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
        await swapping;
        if (forwarder) await forwarder.stop();
        await store.close();
        auth.close();
        logger.info({ openPosts, cut }, 'stopped');
      })();
      return stopping;
    },
  };
}
