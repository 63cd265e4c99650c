// The parts the composition root (main.ts) wires together, each built from the configuration.
import path from 'node:path';
import { CommandAdmission, type Admission, type CommandLimits } from './api/command-admission.js';
import { checkCommand } from './api/command-check.js';
import { healthProblems, statusView, type ApiDeps } from './api/routes.js';
import { ConfigError, parseDuration, type GatewayConfig } from './config/index.js';
import { CommandSignal, IngestCounters, OnlineTracker, SpotIngest, type IngestDeps } from './ingest/index.js';
import { LiveFeed } from './live/live-feed.js';
import { liveSnapshot } from './live/snapshot.js';
import { SpotActivity } from './live/spot-activity.js';
import { recentOfSpot } from './live/page-events.js';
import { FlashJobs } from './flash/flash-jobs.js';
import { ImageStore } from './flash/image-store.js';
import { portRules } from './flash/port-rules.js';
import { readTrustedKeys } from './flash/trusted-keys.js';
import { type GatewayLogger } from './log.js';
import { decodeFrame } from './protocol/index.js';
import { openSerialPort } from './smp/serial-port.js';
import { openStore, type Store, type StoreStatus } from './store/index.js';
import { oncePerTurn } from './once-per-turn.js';
import { StoreUnavailableError } from './store/types.js';
import { Liveness, type UpstreamSample } from './systemd/liveness.js';
import { WriteWatch } from './systemd/write-watch.js';
import { CommandNotQueued, type ForwardSource, MqttForwarder, type SpotCommand, type TlsFiles } from './upstream/index.js';
import { Poster, SpotServerForwarder, type RelayedCommand } from './upstream/spot-server/index.js';

export const MQTT_UPSTREAM = 'mqtt';
/** The spot-server upstream's cursors in the store (docs/chaining.md). */
export const SPOT_SERVER_UPSTREAM = 'spot_server';
/** A spot post lasts about a second: one started just before a stop can still end and be answered. */
export const STOP_GRACE_MS = 2000;

/** Commands arriving from the broker pass the same admission as REST ones; a refusal throws, and the intake logs and counts it. */
export async function queueBrokerCommand(admission: CommandAdmission, logger: GatewayLogger, command: SpotCommand): Promise<void> {
  let admitted: Admission;
  try {
    admitted = await admission.admit(command.spot, command, 'mqtt');
  } catch (err) {
    // Not a refusal: the command stays the broker's, unacknowledged, and is tried again (docs/mqtt.md).
    if (err instanceof StoreUnavailableError) throw new CommandNotQueued(err.message);
    throw err;
  }
  if (!admitted.ok) throw new Error(admitted.reason);
  logger.info({ spot: command.spot, command: admitted.command.id }, `spot ${command.spot}: command ${admitted.command.id} queued (mqtt)`);
}

/** The dashboard's live feed (GET /api/live), fed by every commit; timers only while a client watches. */
export function dashboardFeed(store: Store, deps: ApiDeps, jobs: FlashJobs, logger: GatewayLogger): LiveFeed {
  const activity = new SpotActivity({ now: deps.now });
  const live = new LiveFeed({
    snapshot: () =>
      liveSnapshot({
        status: () => statusView(deps),
        healthProblems: () => healthProblems(deps),
        spots: (limit) => store.spots.page({ limit }),
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
export function retainMsOf(config: GatewayConfig): number {
  const retain = parseDuration(config.buffer.retain);
  if (!retain.ok) throw new Error(`buffer.retain: ${retain.reason}`);
  return retain.ms;
}

/** The store as the config says: buffer size, policy, durability, an upstream cursor for MQTT when configured. */
export function openBuffer(config: GatewayConfig, logger: GatewayLogger, now: () => number): Store {
  return openStore({
    dataDir: config.data_dir,
    durability: config.buffer.durability,
    forwardAfterCommit: config.buffer.forward === 'after-commit',
    maxBytes: Math.round(config.buffer.max_mb * 1024 * 1024),
    policy: config.buffer.policy,
    retainMs: retainMsOf(config),
    upstreams: [...(config.mqtt.url ? [MQTT_UPSTREAM] : []), ...(config.spot_server.url ? [SPOT_SERVER_UPSTREAM] : [])],
    logger: logger.child({ part: 'store' }),
    now,
  });
}

/** The forwarder's view of the store, with the status read once per turn (its lag is the store's pending count). */
export function forwardSource(store: Store, storeStatus: () => StoreStatus): ForwardSource {
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
export function tlsFiles(config: GatewayConfig): TlsFiles {
  const { tls_ca_file: ca, tls_cert_file: cert, tls_key_file: key, tls_verify_server_name: verifyServerName } = config.mqtt;
  return { verifyServerName, ...(ca ? { caFile: ca } : {}), ...(cert ? { certFile: cert } : {}), ...(key ? { keyFile: key } : {}) };
}

export function mqttForwarder(config: GatewayConfig, url: string, source: ForwardSource, admission: CommandAdmission, logger: GatewayLogger, now: () => number): MqttForwarder {
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
    onCommandTooLarge: () => admission.countTooLarge(),
    decodePbCommand: (frame) => {
      const decoded = decodeFrame(frame);
      return decoded.ok ? { ok: true, value: decoded.event } : decoded;
    },
  });
}

/** Commands a spot server wrote into its answers pass the same admission as REST and MQTT ones; a refusal throws with its reason. */
export async function queueRelayedCommand(admission: CommandAdmission, spot: string, command: RelayedCommand): Promise<void> {
  const admitted = await admission.admit(spot, command, SPOT_SERVER_UPSTREAM);
  if (!admitted.ok) throw new Error(admitted.reason);
}

/** The spot-server upstream (docs/chaining.md) as spot_server.* says, reading the store through its cursor API. */
export function spotServerForwarder(config: GatewayConfig, url: string, store: Store, storeStatus: () => StoreStatus, admission: CommandAdmission, logger: GatewayLogger, now: () => number): SpotServerForwarder {
  const s = config.spot_server;
  const poster = new Poster({
    url,
    caFile: s.tls_ca_file,
    maxSockets: s.max_posts_in_flight,
    timeoutMs: Math.round(s.timeout_s * 1000),
    // Every command the server may send fits in one answer (its commands.max_reply_bytes), with room.
    maxAnswerBytes: 4 * 1024 * 1024,
  });
  return new SpotServerForwarder({
    source: {
      instanceId: store.instanceId,
      pendingSpots: (upstream) => store.pendingSpots(upstream),
      readSpot: (upstream, spot, afterId, limit) => store.readSpot(upstream, spot, afterId, limit),
      advanceCursor: (upstream, spot, id) => store.advanceCursor(upstream, spot, id),
      cursor: (upstream, spot) => store.cursor(upstream, spot),
      onAppended: (listener) => store.onAppended(listener),
      flush: () => store.flush(),
      status: storeStatus,
      userAgentOf: (spot) => {
        const version = store.spots.get(spot)?.firmwareVersion;
        return version ? `spot/${version}` : null;
      },
    },
    post: (request) => poster.post(request),
    close: () => poster.close(),
    queueCommand: (spot, command) => queueRelayedCommand(admission, spot, command),
    url: url.replace(/\/\/[^@/]*@/, '//***@'),
    token: s.token,
    upstreamName: SPOT_SERVER_UPSTREAM,
    maxPostsInFlight: s.max_posts_in_flight,
    maxEventsPerPost: s.max_events_per_post,
    pollAfterMs: Math.round(s.poll_after_s * 1000),
    logger: logger.child({ part: 'spot-server' }),
    now,
  });
}

export function commandLimits(config: GatewayConfig): CommandLimits {
  return {
    maxBytes: config.commands.max_bytes,
    maxQueuedPerSpot: config.commands.max_queued_per_spot,
    maxQueuedBytesPerSpot: config.commands.max_queued_bytes_per_spot,
  };
}

/** Commands from the API and the broker pass the same bounds (docs/api.md); `limits` is read at each command (a reload changes it). */
export function admission(config: GatewayConfig, limits: CommandLimits, store: Store, counters: IngestCounters, now: () => number, signal: CommandSignal): CommandAdmission {
  return new CommandAdmission({
    queued: (spot) => signal.queued(spot),
    store,
    check: checkCommand,
    limits,
    ttlMs: Math.round(config.commands.ttl_s * 1000),
    now,
    counters,
  });
}

export function spotIngest(
  config: GatewayConfig,
  store: IngestDeps['store'],
  counters: IngestCounters,
  heard: (serial: string) => void,
  logger: GatewayLogger,
  now: () => number,
  spotRate?: IngestDeps['spotRate'],
  commandsFreed?: (serial: string) => void,
): SpotIngest {
  return new SpotIngest({
    store,
    counters,
    now,
    logger: logger.child({ part: 'ingest' }),
    maxEventBytes: config.ingest.max_event_bytes,
    maxRejectedPerPost: config.ingest.max_rejected_per_post,
    maxReplyBytes: config.commands.max_reply_bytes,
    heard,
    spotRate,
    commandsFreed,
  });
}

/** What ingest needs of the store; each append is timed by the write watch (systemd/liveness.ts). */
export function watchedWrites(store: Store, writes: WriteWatch): IngestDeps['store'] {
  return {
    appendWith: (events, done) => store.appendWith(events, writes.track(done)),
    commands: store.commands,
    spots: store.spots,
    rejected: store.rejected,
  };
}

/** What systemd's watchdog and STATUS= line look at: store writes, the backlog, the upstream's progress. */
export function gatewayLiveness(
  now: () => number,
  storeStatus: () => StoreStatus,
  writes: WriteWatch,
  online: OnlineTracker,
  currentForwarder: () => MqttForwarder | null,
  currentSpotServer: () => SpotServerForwarder | null,
): Liveness {
  // The watchdog's check and the STATUS= line it refreshes read the forwarders' status once between them.
  const upstreams = oncePerTurn((): UpstreamSample[] => {
    const samples: UpstreamSample[] = [];
    const forwarder = currentForwarder();
    if (forwarder) {
      const f = forwarder.status();
      // A refused message is an answer from the broker too: the forwarder moves past it.
      samples.push({ name: MQTT_UPSTREAM, state: f.state, acked: f.acked + f.refused, backlog: f.lagEvents, inFlight: f.inFlight, downSinceMs: f.downSinceMs });
    }
    const spotServer = currentSpotServer();
    if (spotServer) {
      const s = spotServer.status();
      const state = s.state === 'down' || s.state === 'looped' ? 'disconnected' : s.state;
      samples.push({ name: SPOT_SERVER_UPSTREAM, state, acked: s.acked + s.refused, backlog: s.lagEvents, inFlight: s.inFlight, downSinceMs: s.downSinceMs });
    }
    return samples;
  });
  return new Liveness({
    now,
    storeError: () => storeStatus().lastError,
    storeWaitingMs: () => writes.waitingMs(),
    spotsOnline: () => online.onlineCount(),
    backlog: (samples) => {
      const names = samples.map((u) => u.name);
      if (names.length === 0) return storeStatus().events;
      const per = storeStatus().perUpstream;
      return Math.max(...names.map((n) => per[n]?.pending ?? 0));
    },
    upstreams,
  });
}

/** Stored images and flash jobs (docs/firmware-store.md); throws ConfigError for a key file or port pattern it cannot use. */
export function firmwareParts(config: GatewayConfig, logger: GatewayLogger, now: () => number): { images: ImageStore; jobs: FlashJobs; firmware: ApiDeps['firmware'] } {
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
