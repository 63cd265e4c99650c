// Options, status and small helpers of the MQTT forwarder.
import type { HistogramSnapshot } from '../duration-histogram.js';
import type { PbCommandDecoder, SpotCommand } from './downstream.js';
import type { TlsFiles } from './mqtt-wire/target.js';
import type { ForwardSource } from './source.js';

/** What one connection is opened with (mqtt-wire/client.ts; a test's factory gets the same). */
export interface ConnectOptions {
  protocolVersion: 4 | 5;
  clientId: string;
  /** false: the broker keeps the session (commands queued while the gateway is away). */
  clean: boolean;
  keepaliveSeconds: number;
  connectTimeoutMs: number;
  will: { topic: string; payload: Buffer; qos: 1; retain: boolean };
  /** MQTT 5: how long the broker keeps the session. */
  sessionExpirySeconds: number;
  /** MQTT 5: the largest packet the gateway takes (a command's payload plus its topic and properties). */
  maximumPacketSize: number;
  tls?: TlsFiles;
}

/** The CONNACK as the forwarder reads it. */
export interface Connack {
  sessionPresent: boolean;
  properties?: { receiveMaximum?: number; maximumPacketSize?: number };
}

/** A PUBLISH from the broker (a command). */
export interface InboundPublish {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface PublishOptions {
  qos: 1;
  retain?: boolean;
  /** MQTT 5 only. */
  properties?: { contentType?: string; userProperties?: Record<string, string> };
}

/** The connection the forwarder drives: mqtt-wire/client.ts, or a scripted fake in the unit tests. */
export interface UpstreamClient {
  on(event: 'connect', listener: (connack: Connack) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  /** QoS 1; `cb` runs on the PUBACK, with an error carrying the reason code as `code` when refused. */
  publish(topic: string, payload: string | Buffer, opts: PublishOptions, cb: (err?: Error) => void): unknown;
  /** `cb` on the SUBACK; a refusal's error carries the packet as `packet`. */
  subscribe(filters: string[], opts: { qos: 1 }, cb: (err: Error | null) => void): unknown;
  /** force: drop at once; otherwise DISCONNECT cleanly, then `cb`. */
  end(force?: boolean, opts?: object, cb?: () => void): unknown;
  /** Called for every inbound PUBLISH; the PUBACK goes out when `done` is called. */
  handleMessage: (packet: InboundPublish, done: (err?: Error) => void) => void;
}

export type ClientFactory = (url: string, options: ConnectOptions) => UpstreamClient;

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
  /** Write event messages as batched PUBLISH packets encoded by the forwarder (default true; false: one mqtt-packet generate() each). */
  rawPublish?: boolean;
  /** PB command payload -> [resource, action, object]; default: the project's PB codec. */
  decodePbCommand?: PbCommandDecoder;
  /** Losses with the suspect alone in flight that quarantine it (default 3; docs/mqtt.md, "Poison events"). */
  poisonAfterDrops?: number;
  /** The largest command payload taken (commands.max_bytes; default MAX_COMMAND_BYTES); sets the Maximum Packet Size sent in CONNECT. */
  maxCommandBytes?: number;
  /** A command payload over maxCommandBytes plus the packet overhead was refused unread (the gateway counts it as too large). */
  onCommandTooLarge?: () => void;
  /** mqtts:// only: CA, client certificate and key files, and whether the server name is checked. */
  tls?: TlsFiles;
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
  /** Commands not acknowledged yet: the store could not queue them, they are tried again (docs/mqtt.md). */
  commandsWaiting: number;
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

/** Runs a call into the client, which throws when used on a connection that is going away: true, or the reason. */
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

/** Room in a command PUBLISH besides the payload: fixed header, topic (under 1600 bytes, docs/mqtt.md), packet id, properties. */
export const COMMAND_PACKET_OVERHEAD = 8192;

/** A new connection per attempt: the forwarder replays from its cursors, nothing is resent by the client. */
export function connectOptions(o: {
  protocolVersion: 4 | 5;
  clientId: string;
  willTopic: string;
  sessionExpirySeconds: number;
  maxCommandBytes: number;
  tls: TlsFiles | undefined;
}): ConnectOptions {
  return {
    protocolVersion: o.protocolVersion,
    clientId: o.clientId,
    // A kept session lets the broker hold commands for spots while the gateway is away.
    clean: false,
    keepaliveSeconds: 30,
    connectTimeoutMs: 10_000,
    will: { topic: o.willTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    sessionExpirySeconds: o.sessionExpirySeconds,
    maximumPacketSize: o.maxCommandBytes + COMMAND_PACKET_OVERHEAD,
    ...(o.tls ? { tls: o.tls } : {}),
  };
}

/** The stable event id consumers drop duplicates by: the buffer's instance id and the event's id in it. */
export function stableEventId(instanceId: string, id: number): string {
  return `${instanceId}:${id}`;
}

/** QoS 1; on MQTT 5 the stable event id and the content type ride along as properties. */
export function eventPublishOptions(protocolVersion: 4 | 5, eventId: string, contentType: string): PublishOptions {
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
