// One broker connection at a time: a new client per attempt, backoff between attempts,
// MQTT 5 -> 3.1.1 fallback. Callbacks of an abandoned client are ignored (generation check).
import { redactUrl } from '../config/redact.js';
import { Backoff } from './backoff.js';
import type { TlsFiles } from './mqtt-wire/target.js';
import {
  bounded,
  connectOptions,
  describe,
  PROTOCOL_REFUSALS,
  safely,
  type ClientFactory,
  type Connack,
  type ForwarderState,
  type InboundPublish,
  type Timers,
  type UpstreamClient,
  type UpstreamLogger,
} from './options.js';

export interface BrokerConnectionOptions {
  url: string;
  clientId: string;
  willTopic: string;
  sessionExpirySeconds: number;
  protocolVersion: 4 | 5;
  fallbackToV4: boolean;
  maxCommandBytes: number;
  tls: TlsFiles | undefined;
  clientFactory: ClientFactory;
  backoff: Backoff;
  timers: Timers;
  logger: UpstreamLogger;
  /** handleMessage of every client (downstream commands). */
  handleMessage: (packet: InboundPublish, done: (err?: Error) => void) => void;
  /** CONNACK received: the client is ready for publishing. */
  onUp: (client: UpstreamClient, connack: Connack) => void;
  /**
   * The connection is gone (called once per connection), for `reason`; nothing of it is in flight any
   * more. `byBroker`: the broker closed it or it failed (not `lost()` called by the user).
   */
  onDown: (reason: string, byBroker: boolean) => void;
  onError: (reason: string) => void;
}

export class BrokerConnection {
  state: ForwarderState = 'disconnected';
  protocolVersion: 4 | 5;
  reconnects = 0;
  /** Bumped whenever a client is abandoned. */
  generation = 0;
  private client: UpstreamClient | null = null;
  private running = false;
  private connectedOnce = false;
  private reconnectTimer: unknown = null;
  private lastReason: string | null = null;
  /** The URL as logs and the status show it: without its password. */
  private readonly shownUrl: string;

  constructor(private readonly o: BrokerConnectionOptions) {
    this.protocolVersion = o.protocolVersion;
    this.shownUrl = redactUrl(o.url);
  }

  /** The connected client, or null. */
  get ready(): UpstreamClient | null {
    return this.state === 'connected' ? this.client : null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  /** A connection-level failure noticed by the user (e.g. a publish error): drop it and reconnect. */
  lost(generation: number, reason: string): void {
    this.down(generation, reason, false);
  }

  private down(generation: number, reason: string, byBroker: boolean): void {
    if (generation !== this.generation) return;
    this.generation++;
    const wasConnected = this.state === 'connected';
    this.abandonClient();
    this.state = 'disconnected';
    const detail = this.lastReason && !reason.includes(this.lastReason) ? `${reason} (${this.lastReason})` : reason;
    this.o.onDown(detail, byBroker);
    if (!this.running) return;
    const delay = this.o.backoff.next();
    this.o.logger.warn(
      { url: this.shownUrl, retryInMs: delay, attempt: this.o.backoff.attempts },
      wasConnected
        ? `mqtt: connection to ${this.shownUrl} lost: ${detail}; reconnecting in ${delay} ms`
        : `mqtt: cannot connect to ${this.shownUrl}: ${detail}; next attempt in ${delay} ms`,
    );
    this.reconnectTimer = this.o.timers.setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running) this.connect();
    }, delay);
  }

  /** No more attempts. When connected: `beforeEnd` (bounded), then a clean DISCONNECT (no last will). */
  async close(beforeEnd: (client: UpstreamClient) => Promise<void>, timeoutMs: number): Promise<void> {
    this.running = false;
    if (this.reconnectTimer !== null) this.o.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.ready;
    if (client) {
      const generation = this.generation;
      await bounded(this.o.timers, beforeEnd(client), timeoutMs);
      if (generation === this.generation) {
        this.generation++;
        let ended = false;
        await bounded(
          this.o.timers,
          new Promise<void>((resolve) => {
            if (safely(() => client.end(false, {}, () => ((ended = true), resolve()))) !== true) resolve();
          }),
          timeoutMs,
        );
        // Cleanly disconnected: forcing an end now could cut the DISCONNECT short.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by client.end's callback
        if (ended) this.client = null;
      }
    }
    this.generation++;
    this.abandonClient();
    this.state = 'disconnected';
  }

  private connect(): void {
    this.state = 'connecting';
    const generation = ++this.generation;
    let client: UpstreamClient;
    try {
      client = this.o.clientFactory(
        this.o.url,
        connectOptions({
          protocolVersion: this.protocolVersion,
          clientId: this.o.clientId,
          willTopic: this.o.willTopic,
          sessionExpirySeconds: this.o.sessionExpirySeconds,
          maxCommandBytes: this.o.maxCommandBytes,
          tls: this.o.tls,
        }),
      );
    } catch (err) {
      this.report(`cannot create an MQTT client for ${this.shownUrl}: ${describe(err)}`);
      this.lost(generation, this.lastReason!);
      return;
    }
    this.client = client;
    client.handleMessage = this.o.handleMessage;
    client.on('connect', (connack: Connack) => this.connected(generation, connack));
    client.on('error', (err: Error) => this.clientError(generation, err));
    client.on('close', () => this.down(generation, 'connection closed', true));
  }

  private connected(generation: number, connack: Connack): void {
    if (generation !== this.generation || !this.client) return;
    this.state = 'connected';
    this.o.backoff.reset();
    if (this.connectedOnce) this.reconnects++;
    this.connectedOnce = true;
    this.lastReason = null;
    this.o.onUp(this.client, connack);
  }

  private clientError(generation: number, err: Error): void {
    if (generation !== this.generation) return;
    this.report(describe(err));
    const code = (err as { code?: unknown }).code;
    if (this.state !== 'connecting' || typeof code !== 'number') return;
    // A numeric code while connecting is a CONNACK refusal.
    if (this.protocolVersion === 5 && PROTOCOL_REFUSALS.has(code) && this.o.fallbackToV4) {
      this.protocolVersion = 4;
      this.o.logger.warn(
        { url: this.shownUrl },
        'mqtt: broker refuses MQTT 5, using MQTT 3.1.1: messages carry no event_id, consumers cannot drop duplicates by id',
      );
      this.o.backoff.reset();
    }
    this.down(generation, `broker refused the connection: ${describe(err)}`, true);
  }

  private report(reason: string): void {
    this.lastReason = reason;
    this.o.onError(reason);
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
}
