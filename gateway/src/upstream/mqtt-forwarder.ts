// Store-and-forward to MQTT: cursor-driven replay, pipelined QoS 1, fair per spot (docs/mqtt.md).
import mqtt from 'mqtt';
import type { IClientOptions, IClientPublishOptions, IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import { AckWindow } from './ack-window.js';
import { Backoff } from './backoff.js';
import { parseCommandMessage, type PbCommandDecoder, type SpotCommand } from './downstream.js';
import { RateMeter } from './rate.js';
import { SpotFeed } from './spot-feed.js';
import type { ForwardEvent, ForwardSource } from './source.js';
import { isTopicLevel, Topics, type SpotState } from './topics.js';

/** The part of an mqtt.js client the forwarder uses (tests pass fakes). */
export type UpstreamClient = Pick<MqttClient, 'on' | 'publish' | 'subscribe' | 'end' | 'handleMessage'>;

export type ClientFactory = (url: string, options: IClientOptions) => UpstreamClient;

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
  decodePbCommand?: PbCommandDecoder;
}

export type ForwarderState = 'connected' | 'connecting' | 'disconnected';

export interface ForwarderStatus {
  state: ForwarderState;
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
  spotStatesDropped: number;
  commandsAccepted: number;
  commandsRejected: number;
}

// PUBACK reason codes a retry cannot fix: the event is skipped (docs/mqtt.md).
const PERMANENT_REFUSALS = new Set([0x87, 0x90, 0x95, 0x99]);
// CONNACK codes meaning "protocol level not supported": 3.1.1 code 1, 5.0 code 0x84.
const PROTOCOL_REFUSALS = new Set([1, 0x84]);

const silentLogger: UpstreamLogger = { debug() {}, info() {}, warn() {}, error() {} };
const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class MqttForwarder {
  private readonly opts: Required<
    Pick<MqttForwarderOptions, 'url' | 'gatewayId' | 'source' | 'upstreamName' | 'clientFactory' | 'now'>
  > &
    MqttForwarderOptions;
  private readonly topics: Topics;
  private readonly logger: UpstreamLogger;
  private readonly timers: Timers;
  private readonly backoff: Backoff;
  private readonly window = new AckWindow();
  private readonly feed: SpotFeed;
  private readonly rate: RateMeter;
  private readonly maxInFlight: number;
  private readonly clientId: string;

  private protocolVersion: 4 | 5;
  private running = false;
  private state: ForwarderState = 'disconnected';
  private client: UpstreamClient | null = null;
  /** Bumped whenever a client is abandoned: callbacks of older clients are ignored. */
  private generation = 0;
  private windowLimit = 0;
  private otherInFlight = 0;
  private reconnectTimer: unknown = null;
  private retryPumpTimer: unknown = null;
  private pumpScheduled = false;
  private flushScheduled = false;
  private readonly dirtyCursors = new Map<string, number>();
  private drainWaiters: Array<() => void> = [];
  private unsubscribeAppended: (() => void) | null = null;
  private connectedOnce = false;

  private published = 0;
  private acked = 0;
  private refused = 0;
  private reconnects = 0;
  private spotStatesDropped = 0;
  private commandsAccepted = 0;
  private commandsRejected = 0;
  private lastError: string | null = null;

  constructor(options: MqttForwarderOptions) {
    this.opts = {
      ...options,
      upstreamName: options.upstreamName ?? 'mqtt',
      clientFactory: options.clientFactory ?? ((url, o) => mqtt.connect(url, o)),
      now: options.now ?? Date.now,
    };
    if (!isTopicLevel(options.gatewayId)) {
      throw new Error(`mqtt: gateway id "${options.gatewayId}" cannot be a topic level (empty, or holds /, + or #)`);
    }
    this.topics = new Topics(options.topicPrefix ?? '');
    this.logger = options.logger ?? silentLogger;
    this.timers = options.timers ?? realTimers;
    this.backoff = new Backoff({ ...options.backoff, random: options.random ?? Math.random });
    this.rate = new RateMeter(this.opts.now);
    this.maxInFlight = Math.max(2, options.maxInFlight ?? 1000);
    this.feed = new SpotFeed(options.source, this.opts.upstreamName, Math.max(1, options.batchPerTurn ?? 64));
    this.protocolVersion = options.protocolVersion ?? 5;
    this.clientId = `spot-gateway-${options.gatewayId}-${this.opts.upstreamName}`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const unsubscribe = this.opts.source.onAppended((spot, lastId) => this.appended(spot, lastId));
    this.unsubscribeAppended = typeof unsubscribe === 'function' ? (unsubscribe as () => void) : null;
    this.connect();
  }

  /** Waits (bounded) for in-flight acks, publishes retained "offline", disconnects cleanly. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribeAppended?.();
    this.unsubscribeAppended = null;
    this.clearTimer('reconnectTimer');
    this.clearTimer('retryPumpTimer');
    const client = this.client;
    const generation = this.generation;
    const timeoutMs = this.opts.stopTimeoutMs ?? 2000;
    if (client && this.state === 'connected') {
      await this.bounded(new Promise<void>((resolve) => this.whenDrained(resolve)), timeoutMs);
      this.flushCursors();
      if (generation === this.generation) {
        this.generation++;
        const offline = this.topics.gatewayState(this.opts.gatewayId);
        await this.bounded(
          new Promise<void>((resolve) => {
            if (safely(() => client.publish(offline, 'offline', { qos: 1, retain: true }, () => resolve())) !== true) resolve();
          }),
          timeoutMs,
        );
        await this.bounded(
          new Promise<void>((resolve) => {
            if (safely(() => client.end(false, {}, () => resolve())) !== true) resolve();
          }),
          timeoutMs,
        );
      }
    }
    this.abandonClient();
    this.flushCursors();
    this.state = 'disconnected';
    this.logger.info({ url: this.opts.url }, 'mqtt: stopped');
  }

  /** Best effort (QoS 1 when connected, dropped and counted otherwise): a spot came online or went offline. */
  publishSpotState(serial: string, state: SpotState): void {
    const client = this.client;
    if (this.state !== 'connected' || !client) {
      this.spotStatesDropped++;
      return;
    }
    if (!isTopicLevel(serial)) {
      this.logger.warn({ spot: serial }, `mqtt: spot serial "${serial}" cannot be a topic level; state not published`);
      return;
    }
    const payload = JSON.stringify({ spot: serial, time: new Date(this.opts.now()).toISOString() });
    this.publishOther(this.topics.spotState(serial, state), payload, false);
  }

  status(): ForwarderStatus {
    let lagEvents: number | null = null;
    try {
      lagEvents = this.opts.source.pendingCount?.(this.opts.upstreamName) ?? null;
    } catch {
      lagEvents = null;
    }
    return {
      state: this.state,
      protocolVersion: this.protocolVersion,
      inFlight: this.window.inFlight + this.otherInFlight,
      published: this.published,
      acked: this.acked,
      refused: this.refused,
      ratePerSec: this.rate.perSecond(),
      lagEvents,
      lastError: this.lastError,
      reconnects: this.reconnects,
      spotStatesDropped: this.spotStatesDropped,
      commandsAccepted: this.commandsAccepted,
      commandsRejected: this.commandsRejected,
    };
  }

  // --- connection -----------------------------------------------------------

  private connect(): void {
    this.state = 'connecting';
    const generation = ++this.generation;
    const v5 = this.protocolVersion === 5;
    const options: IClientOptions = {
      protocolVersion: this.protocolVersion,
      clientId: this.clientId,
      // A kept session lets the broker hold commands for spots while the gateway is away.
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: this.topics.gatewayState(this.opts.gatewayId), payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(v5 ? { properties: { sessionExpiryInterval: this.opts.sessionExpirySeconds ?? 3600 } } : {}),
    };
    let client: UpstreamClient;
    try {
      client = this.opts.clientFactory(this.opts.url, options);
    } catch (err) {
      this.lastError = `cannot create MQTT client for ${this.opts.url}: ${describe(err)}`;
      this.connectionLost(generation, this.lastError);
      return;
    }
    this.client = client;
    client.handleMessage = (packet, done) => this.command(packet, done);
    client.on('connect', (connack: IConnackPacket) => this.connected(generation, connack));
    client.on('error', (err: Error) => this.clientError(generation, err));
    client.on('close', () => this.connectionLost(generation, 'connection closed'));
  }

  private connected(generation: number, connack: IConnackPacket): void {
    if (generation !== this.generation || !this.client) return;
    const client = this.client;
    this.state = 'connected';
    this.backoff.reset();
    if (this.connectedOnce) this.reconnects++;
    this.connectedOnce = true;
    const receiveMaximum = connack.properties?.receiveMaximum ?? 65535;
    this.windowLimit = Math.max(2, Math.min(this.maxInFlight, receiveMaximum));
    this.logger.info(
      { url: this.opts.url, protocolVersion: this.protocolVersion, window: this.windowLimit },
      `mqtt: connected to ${this.opts.url}`,
    );
    this.publishOther(this.topics.gatewayState(this.opts.gatewayId), 'online', true);
    client.subscribe(this.topics.commandFilters(), { qos: 1 }, (err) => {
      if (err && generation === this.generation) {
        this.lastError = `subscribe to commands failed: ${describe(err)}`;
        this.logger.warn({ url: this.opts.url }, `mqtt: ${this.lastError}`);
      }
    });
    this.resync();
  }

  /** Everything above the cursors goes out again, in order: the replay after each connect. */
  private resync(): void {
    this.flushCursors();
    try {
      this.feed.reset();
    } catch (err) {
      this.storeTrouble(`reading pending spots failed: ${describe(err)}`, () => this.resync());
      return;
    }
    this.pump();
  }

  private clientError(generation: number, err: Error): void {
    if (generation !== this.generation) return;
    this.lastError = describe(err);
    const code = (err as { code?: unknown }).code;
    if (this.state !== 'connecting' || typeof code !== 'number') return;
    // A numeric code while connecting is a CONNACK refusal.
    if (this.protocolVersion === 5 && PROTOCOL_REFUSALS.has(code) && this.opts.fallbackToV4 !== false) {
      this.protocolVersion = 4;
      this.logger.warn(
        { url: this.opts.url },
        'mqtt: broker refuses MQTT 5, using MQTT 3.1.1: messages carry no event_id, consumers cannot drop duplicates by id',
      );
      this.backoff.reset();
    }
    this.connectionLost(generation, `broker refused the connection: ${describe(err)}`);
  }

  private connectionLost(generation: number, reason: string): void {
    if (generation !== this.generation) return;
    this.generation++;
    const wasConnected = this.state === 'connected';
    this.abandonClient();
    this.window.clear();
    this.otherInFlight = 0;
    this.releaseDrainWaiters();
    this.flushCursors();
    this.state = 'disconnected';
    if (!this.running) return;
    const delay = this.backoff.next();
    const detail = this.lastError && !reason.includes(this.lastError) ? `${reason} (${this.lastError})` : reason;
    this.logger.warn(
      { url: this.opts.url, retryInMs: delay, attempt: this.backoff.attempts },
      wasConnected
        ? `mqtt: connection to ${this.opts.url} lost: ${detail}; reconnecting in ${delay} ms`
        : `mqtt: cannot connect to ${this.opts.url}: ${detail}; next attempt in ${delay} ms`,
    );
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running) this.connect();
    }, delay);
  }

  private abandonClient(): void {
    const client = this.client;
    this.client = null;
    if (!client) return;
    try {
      client.end(true);
    } catch {
      // Ending an already broken client may throw; it is gone either way.
    }
  }

  // --- publishing -----------------------------------------------------------

  private appended(spot: string, lastId: number): void {
    try {
      this.feed.appended(spot, lastId);
    } catch (err) {
      this.storeTrouble(`reading the cursor of spot ${spot} failed: ${describe(err)}`, () => this.resync());
      return;
    }
    if (this.state === 'connected') this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Fills the window: round robin over spots with unread events, one bounded batch per turn. */
  private pump(): void {
    const client = this.client;
    if (this.state !== 'connected' || !client || !this.running) return;
    const generation = this.generation;
    const room = this.windowLimit - this.window.inFlight - this.otherInFlight;
    if (room <= 0) return;
    try {
      this.feed.take(room, (event) => this.publishEvent(client, generation, event) && generation === this.generation);
    } catch (err) {
      this.storeTrouble(`reading events failed: ${describe(err)}`, () => this.pump());
    }
  }

  /** False when the connection broke while publishing. */
  private publishEvent(client: UpstreamClient, generation: number, event: ForwardEvent): boolean {
    const { spot, id, resource, action } = event;
    if (!isTopicLevel(spot) || !isTopicLevel(resource) || !isTopicLevel(action)) {
      this.window.sent(spot, id, 1);
      this.refuse(spot, id, `spot "${spot}", resource "${resource}" or action "${action}" cannot be a topic level`);
      this.messageAcked(spot, id);
      return true;
    }
    const parts = event.pb ? 2 : 1;
    this.window.sent(spot, id, parts);
    this.published++;
    const eventId = `${this.opts.source.instanceId}:${id}`;
    const jsonTopic = this.topics.eventJson(spot, resource, action);
    const sent = safely(() => {
      client.publish(jsonTopic, event.data, this.publishOptions(eventId, 'application/json'), (err) =>
        this.publishDone(generation, spot, id, jsonTopic, err),
      );
      if (event.pb) {
        const pbTopic = this.topics.eventPb(spot);
        const bytes = Buffer.from(event.pb.buffer, event.pb.byteOffset, event.pb.byteLength);
        client.publish(pbTopic, bytes, this.publishOptions(eventId, 'application/x-protobuf'), (err) =>
          this.publishDone(generation, spot, id, pbTopic, err),
        );
      }
    });
    if (sent === true) return true;
    this.lastError = `publish of event ${id} of spot ${spot} failed: ${sent}`;
    this.connectionLost(generation, this.lastError);
    return false;
  }

  private publishOptions(eventId: string, contentType: string): IClientPublishOptions {
    if (this.protocolVersion !== 5) return { qos: 1 };
    return { qos: 1, properties: { userProperties: { event_id: eventId }, contentType } };
  }

  private publishDone(generation: number, spot: string, id: number, topic: string, err: Error | undefined): void {
    if (generation !== this.generation) return;
    if (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && PERMANENT_REFUSALS.has(code)) {
        this.refuse(spot, id, `broker refused ${topic}: ${describe(err)}`);
      } else {
        this.lastError = `publish of event ${id} of spot ${spot} to ${topic} failed: ${describe(err)}`;
        this.connectionLost(generation, this.lastError);
        return;
      }
    }
    this.messageAcked(spot, id);
  }

  private messageAcked(spot: string, id: number): void {
    const { eventDone, advanceTo } = this.window.acked(spot, id);
    if (eventDone) {
      this.acked++;
      this.rate.add(1);
    }
    if (advanceTo !== undefined) {
      this.dirtyCursors.set(spot, advanceTo);
      this.scheduleFlush();
    }
    if (this.window.inFlight === 0) this.releaseDrainWaiters();
    // Refill at once: a broker with Nagle on sends further PUBACKs only when our TCP ACK (piggybacked) comes.
    this.schedulePump();
  }

  private refuse(spot: string, id: number, reason: string): void {
    this.refused++;
    this.lastError = `spot ${spot}: event ${id} skipped: ${reason}`;
    this.logger.warn({ spot, eventId: id }, `mqtt: ${this.lastError}`);
  }

  /** Gateway state and spot state messages: not events, but they use window slots. */
  private publishOther(topic: string, payload: string, retain: boolean): void {
    const client = this.client;
    if (!client) return;
    const generation = this.generation;
    this.otherInFlight++;
    const sent = safely(() =>
      client.publish(topic, payload, { qos: 1, retain }, (err) => {
        if (generation !== this.generation) return;
        this.otherInFlight--;
        if (err) this.logger.warn({ topic }, `mqtt: publish to ${topic} failed: ${describe(err)}`);
      }),
    );
    if (sent !== true) this.connectionLost(generation, `publish to ${topic} failed: ${sent}`);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushCursors();
    });
  }

  /** One cursor write per spot for all acks of a turn of the event loop. */
  private flushCursors(): void {
    if (this.dirtyCursors.size === 0) return;
    const dirty = [...this.dirtyCursors];
    this.dirtyCursors.clear();
    for (const [spot, id] of dirty) {
      try {
        this.opts.source.advanceCursor(this.opts.upstreamName, spot, id);
      } catch (err) {
        // Not fatal: those events go out again later, as duplicates with the same event_id.
        this.lastError = `saving the cursor of spot ${spot} at ${id} failed: ${describe(err)}`;
        this.logger.error({ spot }, `mqtt: ${this.lastError}`);
      }
    }
  }

  /** The store failed: say so, and try again in a second instead of crashing. */
  private storeTrouble(reason: string, retry: () => void): void {
    this.lastError = reason;
    this.logger.error({}, `mqtt: ${reason}; retrying in 1 s`);
    if (this.retryPumpTimer !== null) return;
    this.retryPumpTimer = this.timers.setTimeout(() => {
      this.retryPumpTimer = null;
      if (this.state === 'connected') retry();
    }, 1000);
  }

  // --- downstream -----------------------------------------------------------

  /** Runs before mqtt.js sends the PUBACK: the broker redelivers a command the gateway has not taken yet. */
  private command(packet: IPublishPacket, done: (err?: Error) => void): void {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const parsed = parseCommandMessage(this.topics, packet.topic, payload, this.opts.decodePbCommand);
    if (!parsed.ok) {
      this.commandsRejected++;
      this.logger.warn({ topic: packet.topic }, `mqtt: command ignored: ${parsed.reason}`);
      done();
      return;
    }
    const rejected = (reason: string) => {
      this.commandsRejected++;
      this.logger.warn({ topic: packet.topic, spot: parsed.value.spot }, `mqtt: command ignored: ${reason}`);
      done();
    };
    if (!this.opts.onCommand) {
      rejected(`${packet.topic}: no command handler configured`);
      return;
    }
    let result: unknown;
    try {
      result = this.opts.onCommand(parsed.value);
    } catch (err) {
      rejected(`${packet.topic}: ${describe(err)}`);
      return;
    }
    Promise.resolve(result).then(
      () => {
        this.commandsAccepted++;
        done();
      },
      (err: unknown) => rejected(`${packet.topic}: ${describe(err)}`),
    );
  }

  // --- helpers --------------------------------------------------------------

  private whenDrained(resolve: () => void): void {
    if (this.window.inFlight === 0 || this.state !== 'connected') resolve();
    else this.drainWaiters.push(resolve);
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private bounded(promise: Promise<void>, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.timers.setTimeout(resolve, ms);
      void promise.then(() => {
        this.timers.clearTimeout(timer);
        resolve();
      });
    });
  }

  private clearTimer(name: 'reconnectTimer' | 'retryPumpTimer'): void {
    if (this[name] !== null) this.timers.clearTimeout(this[name]);
    this[name] = null;
  }
}

/** Runs a call into mqtt.js, which throws when used on a client that is going away: true, or the reason. */
function safely(call: () => unknown): true | string {
  try {
    call();
    return true;
  } catch (err) {
    return describe(err);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return code !== undefined && !err.message.includes(String(code)) ? `${err.message} (${String(code)})` : err.message;
  }
  return String(err);
}
