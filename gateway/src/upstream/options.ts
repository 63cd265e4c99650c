// Options, status and small helpers of the MQTT forwarder.
import type { HistogramSnapshot } from '../duration-histogram.js';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import type { PbCommandDecoder, SpotCommand } from './downstream.js';
import type { PubackTap } from './puback-tap.js';
import type { ForwardSource } from './source.js';

/** The part of an mqtt.js client the forwarder uses (tests pass fakes). */
export type UpstreamClient = Pick<MqttClient, 'on' | 'publish' | 'subscribe' | 'end' | 'handleMessage'>;

/** `tap`: where a factory that owns the socket lets the forwarder claim its PUBACKs (puback-tap.ts). */
export type ClientFactory = (url: string, options: IClientOptions, tap?: PubackTap) => UpstreamClient;

/** pino-compatible subset. */
export interface UpstreamLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface MqttForwarderOptions {
  url: string;
  gatewayId: string;
  source: ForwardSource;
  topicPrefix?: string;
  /** Name of this upstream's cursors in the store. */
  upstreamName?: string;
  clientFactory?: ClientFactory;
  now?: () => number;
  random?: () => number;
  logger?: UpstreamLogger;
  timers?: Timers;
  /** MQTT messages awaiting PUBACK at most (also capped by the broker's Receive Maximum). */
  maxInFlight?: number;
  /** Events read for one spot per round-robin turn. */
  batchPerTurn?: number;
  /** MQTT 5 (default) or 3.1.1 (4). */
  protocolVersion?: 4 | 5;
  /** Use 3.1.1 when the broker refuses 5 (default true). */
  fallbackToV4?: boolean;
  backoff?: { minMs?: number; maxMs?: number };
  /** MQTT 5: how long the broker keeps the session (queued commands) while the gateway is away. */
  sessionExpirySeconds?: number;
  /** stop(): how long to wait for in-flight acks and the offline message. */
  stopTimeoutMs?: number;
  onCommand?: (command: SpotCommand) => unknown;
  /** Write event messages as batched raw PUBLISH packets on the mqtt.js socket (default true; false: mqtt.js publish()). */
  rawPublish?: boolean;
  /** PB command payload -> [resource, action, object]; default: the project's PB codec. */
  decodePbCommand?: PbCommandDecoder;
  /** Losses with the suspect alone in flight that quarantine it (default 3; docs/mqtt.md, "Poison events"). */
  poisonAfterDrops?: number;
  /** A disconnection this long is an outage, reported as one (mqtt.degraded_after_s); the stall count starts again after it. Default 60 s. */
  outageMs?: number;
}

export type ForwarderState = 'connected' | 'connecting' | 'disconnected';

export interface SuspectStatus {
  spot: string;
  eventId: number;
  /** Losses with it alone in flight. */
  strikes: number;
  /** At the limit, not quarantined: no event was acknowledged since the last quarantine. */
  withheld: boolean;
}

export interface ForwarderStatus {
  state: ForwarderState;
  /** Since when (ms since the epoch) the upstream has had no connection; null while connected. */
  downSinceMs: number | null;
  protocolVersion: 4 | 5;
  /** MQTT messages awaiting PUBACK. */
  inFlight: number;
  /** Events handed to the broker (redeliveries included). */
  published: number;
  /** Events fully acknowledged. */
  acked: number;
  /** Events the broker refused for good (skipped). */
  refused: number;
  ratePerSec: number;
  /** Stored events not yet acknowledged, or null when the store cannot count them. */
  lagEvents: number | null;
  lastError: string | null;
  reconnects: number;
  /** Spot state messages never sent: while disconnected, replaced by a later state of the spot before going out, or over the queue's bound. */
  spotStatesDropped: number;
  /** Gateway and spot state messages waiting for a window slot. */
  spotStatesQueued: number;
  commandsAccepted: number;
  commandsRejected: number;
  /** Receipt at the gateway to the broker's acknowledgement, per event, since start. */
  delivery: HistogramSnapshot;
  /** Events of this upstream in quarantine now. */
  quarantined: number;
  /** The event suspected of breaking the connection, or null (docs/mqtt.md, "Poison events"). */
  poisonSuspect: SuspectStatus | null;
  /** With a backlog and connections: since when nothing was acknowledged (ms since the epoch); null otherwise. */
  noAckSinceMs: number | null;
  /** Reconnects since the last acknowledgement (quick ones: an outage starts the count again). */
  reconnectsSinceAck: number;
}

// PUBACK reason codes a retry cannot fix: the event is skipped (docs/mqtt.md).
export const PERMANENT_REFUSALS = new Set([0x87, 0x90, 0x95, 0x99]);
// CONNACK codes meaning "protocol level not supported": 3.1.1 code 1, 5.0 code 0x84.
export const PROTOCOL_REFUSALS = new Set([1, 0x84]);

export const silentLogger: UpstreamLogger = { debug() {}, info() {}, warn() {}, error() {} };
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Runs a call into mqtt.js, which throws when used on a client that is going away: true, or the reason. */
export function safely(call: () => unknown): true | string {
  try {
    call();
    return true;
  } catch (err) {
    return describe(err);
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- an error code: a string or a number
    return code !== undefined && !err.message.includes(String(code)) ? `${err.message} (${String(code)})` : err.message;
  }
  return String(err);
}

// mqtt.js's debug logging costs ~10% CPU per publish even when off; keep it only when DEBUG asks for it.
const mqttJsDebug = /mqttjs/.test(process.env.DEBUG ?? '');
const quiet = (): void => {};

/** One new mqtt.js client per connection, with its own reconnect off: the forwarder replays from cursors. */
export function clientOptions(o: {
  protocolVersion: 4 | 5;
  clientId: string;
  willTopic: string;
  sessionExpirySeconds: number;
}): IClientOptions {
  return {
    protocolVersion: o.protocolVersion,
    clientId: o.clientId,
    // A kept session lets the broker hold commands for spots while the gateway is away.
    clean: false,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 30,
    resubscribe: false,
    queueQoSZero: false,
    // mqtt-packet otherwise builds a cache of 65536 two-byte Buffers for packet ids at the
    // first write: 6.5 MB of live heap, kept for the life of the process (docs/architecture.md, "Memory").
    writeCache: false,
    will: { topic: o.willTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    ...(mqttJsDebug ? {} : { log: quiet }),
    ...(o.protocolVersion === 5 ? { properties: { sessionExpiryInterval: o.sessionExpirySeconds } } : {}),
  };
}

/** The stable event id consumers drop duplicates by: the buffer's instance id and the event's id in it. */
export function stableEventId(instanceId: string, id: number): string {
  return `${instanceId}:${id}`;
}

/** QoS 1; on MQTT 5 the stable event id and the content type ride along as properties. */
export function eventPublishOptions(protocolVersion: 4 | 5, eventId: string, contentType: string): IClientPublishOptions {
  if (protocolVersion !== 5) return { qos: 1 };
  return { qos: 1, properties: { userProperties: { event_id: eventId }, contentType } };
}

/** Resolves when `promise` does or after `ms`, whichever comes first. */
export function bounded(timers: Timers, promise: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = timers.setTimeout(resolve, ms);
    void promise.then(() => {
      timers.clearTimeout(timer);
      resolve();
    });
  });
}
