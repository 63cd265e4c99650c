// Store-and-forward to MQTT: cursor-driven replay, pipelined QoS 1, fair per spot (docs/mqtt.md).
import { AckWindow } from './ack-window.js';
import { Backoff } from './backoff.js';
import { BrokerConnection } from './broker-connection.js';
import { CommandIntake } from './command-intake.js';
import { CursorWriter } from './cursor-writer.js';
import { decodePbFrame, MAX_COMMAND_BYTES } from './downstream.js';
import { WireClient } from './mqtt-wire/client.js';
import {
  COMMAND_PACKET_OVERHEAD,
  describe,
  realTimers,
  safely,
  silentLogger,
  type Connack,
  type ForwarderStatus,
  type MqttForwarderOptions,
  type Timers,
  type UpstreamClient,
  type UpstreamLogger,
} from './options.js';
import { DEFAULT_POISON_AFTER_DROPS, PoisonGuard } from './poison-guard.js';
import { openChannel, type PublishChannel } from './publish-channel.js';
import { QuarantineResender, type ResendOutcome } from './quarantine-resend.js';
import { RateMeter } from './rate.js';
import { SpotFeed } from './spot-feed.js';
import { StateOutbox } from './state-outbox.js';
import { StallWatch } from './stall-watch.js';
import { DeliveryTimes } from './delivery-times.js';
import { EventPublisher } from './event-publisher.js';
import { lagOf, type ForwardEvent, type ForwardSource } from './source.js';
import { isTopicLevel, Topics, type SpotState } from './topics.js';
import { topicLevelFault } from '../protocol/index.js';

/** Enough to hide a broker's delayed PUBACKs (Nagle plus delayed ACK, ~40 ms) at 100k+ events/s. */
export const DEFAULT_MAX_IN_FLIGHT = 8192;

export class MqttForwarder {
  private readonly source: ForwardSource;
  private readonly upstream: string;
  private readonly now: () => number;
  private readonly topics: Topics;
  private readonly logger: UpstreamLogger;
  private readonly timers: Timers;
  private readonly connection: BrokerConnection;
  private readonly window = new AckWindow();
  private readonly feed: SpotFeed;
  /** Gateway and spot state messages waiting for (or holding) window slots. */
  private readonly states = new StateOutbox();
  private readonly cursors: CursorWriter;
  private readonly commands: CommandIntake;
  private readonly rate: RateMeter;
  /** Receipt to acknowledgement of each event (not of refused ones). */
  private readonly delivery = new DeliveryTimes();
  /** Poison events (suspect, probe, quarantine), resends by hand, and progress: docs/mqtt.md. */
  private readonly poison: PoisonGuard;
  private readonly resender: QuarantineResender;
  private readonly publisher: EventPublisher;
  private readonly stall: StallWatch;
  /** Without a connection since (ms since the epoch; from construction until the first CONNACK); null while connected. */
  private downSince: number | null;
  private readonly maxInFlight: number;
  private readonly gatewayId: string;
  private readonly stopTimeoutMs: number;
  private readonly rawPublish: boolean;
  private channel: PublishChannel | null = null;

  private running = false;
  /** Set on every connect: the first pump replays from the cursors. */
  private needsResync = false;
  private windowLimit = 0;
  private otherInFlight = 0;
  private retryTimer: unknown = null;
  private pumpScheduled = false;
  private drainWaiters: Array<() => void> = [];
  private unsubscribeAppended: (() => void) | null = null;

  private acked = 0;
  private refusedCount = 0;
  private lastError: string | null = null;

  constructor(options: MqttForwarderOptions) {
    const idFault = topicLevelFault(options.gatewayId);
    if (idFault !== null) throw new Error(`mqtt: gateway id ${JSON.stringify(options.gatewayId.slice(0, 100))} cannot be a topic level: it ${idFault}`);
    this.source = options.source;
    this.upstream = options.upstreamName ?? 'mqtt';
    this.now = options.now ?? Date.now;
    this.gatewayId = options.gatewayId;
    this.topics = new Topics(options.topicPrefix ?? '');
    this.logger = options.logger ?? silentLogger;
    this.timers = options.timers ?? realTimers;
    this.rate = new RateMeter(this.now);
    this.downSince = this.now();
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.stopTimeoutMs = options.stopTimeoutMs ?? 2000;
    this.rawPublish = options.rawPublish ?? true;
    this.feed = new SpotFeed(this.source, this.upstream, Math.max(1, options.batchPerTurn ?? 64));
    this.cursors = new CursorWriter(this.source, this.upstream, (reason, spot) => {
      this.lastError = reason;
      this.logger.error({ spot }, `mqtt: ${reason}`);
    });
    const { source, upstream, topics, logger, now } = this;
    this.poison = new PoisonGuard({ source, upstream, limit: options.poisonAfterDrops ?? DEFAULT_POISON_AFTER_DROPS, logger, now });
    const onSlots = (delta: number): void => void (this.otherInFlight += delta);
    this.resender = new QuarantineResender({ book: source.quarantine, upstream, instanceId: source.instanceId, topics, logger, onSlots });
    this.publisher = new EventPublisher({
      topics,
      instanceId: source.instanceId,
      window: this.window,
      generation: () => this.connection.generation,
      channel: () => this.channel,
      answered: (spot, id, receivedAt) => this.messageAcked(spot, id, receivedAt),
      refused: (spot, id, reason) => this.refused(spot, id, reason),
      broken: (generation, reason) => this.broken(generation, reason),
    });
    this.stall = new StallWatch(now, options.outageMs ?? 60_000);
    const maxCommandBytes = options.maxCommandBytes ?? MAX_COMMAND_BYTES;
    // A payload larger than the packet the broker may send is refused unread; the admission holds the exact bound (a command's JSON message).
    this.commands = new CommandIntake({
      topics,
      logger,
      onCommand: options.onCommand,
      decodePb: options.decodePbCommand ?? decodePbFrame,
      maxBytes: maxCommandBytes + COMMAND_PACKET_OVERHEAD,
      maxBytesSource: `commands.max_bytes ${maxCommandBytes} plus ${COMMAND_PACKET_OVERHEAD} for topic and properties`,
      tooLarge: options.onCommandTooLarge,
      timers: this.timers,
      overflow: (reason) => {
        this.lastError = reason;
        if (this.connection.ready) this.connection.lost(this.connection.generation, reason);
      },
    });
    this.connection = new BrokerConnection({
      url: options.url,
      clientId: `spot-gateway-${options.gatewayId}-${this.upstream}`,
      willTopic: this.topics.gatewayState(options.gatewayId),
      sessionExpirySeconds: options.sessionExpirySeconds ?? 3600,
      protocolVersion: options.protocolVersion ?? 5,
      fallbackToV4: options.fallbackToV4 ?? true,
      maxCommandBytes,
      tls: options.tls,
      clientFactory: options.clientFactory ?? ((url, connect) => new WireClient(url, connect)),
      backoff: new Backoff({ ...options.backoff, random: options.random ?? Math.random }),
      timers: this.timers,
      logger: this.logger,
      handleMessage: (packet, done) => this.commands.handle(packet, done),
      onUp: (client, connack) => this.connected(client, connack),
      onDown: (reason, byBroker) => this.disconnected(reason, byBroker),
      onError: (reason) => (this.lastError = reason),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribeAppended = this.source.onAppended((spot, lastId, events) => this.appended(spot, lastId, events));
    this.connection.start();
  }

  /** Waits (bounded) for in-flight acks, publishes retained "offline", disconnects cleanly. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribeAppended?.();
    this.unsubscribeAppended = null;
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    // Held commands stay unacknowledged: the broker delivers them again to the next start.
    this.commands.reset();
    await this.connection.close(async (client) => {
      // Until the events in flight are acknowledged, or the connection is gone.
      if (this.window.inFlight > 0 && this.connection.ready) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      this.cursors.flush();
      const offline = this.topics.gatewayState(this.gatewayId);
      await new Promise<void>((resolve) => {
        if (safely(() => client.publish(offline, 'offline', { qos: 1, retain: true }, () => resolve())) !== true) resolve();
      });
    }, this.stopTimeoutMs);
    this.cursors.flush();
    this.logger.info({}, 'mqtt: stopped');
  }

  /** Best effort (QoS 1 when connected, dropped and counted otherwise): a spot came online or went offline. */
  publishSpotState(serial: string, state: SpotState): void {
    const client = this.connection.ready;
    if (!client) {
      this.states.droppedOne();
      return;
    }
    if (!isTopicLevel(serial)) {
      this.logger.warn({ spot: serial }, `mqtt: spot serial "${serial}" cannot be a topic level; state not published`);
      return;
    }
    const payload = JSON.stringify({ spot: serial, time: new Date(this.now()).toISOString() });
    this.states.spotState(serial, { topic: this.topics.spotState(serial, state), payload, retain: false });
    // At once when the state share of the window has room; else it waits, and a PUBACK pumps it.
    this.sendStates(client, this.connection.generation, true);
    if (this.states.queued > 0) this.schedulePump();
  }

  status(): ForwarderStatus {
    const lagEvents = lagOf(this.source, this.upstream);
    return {
      state: this.connection.state,
      downSinceMs: this.downSince,
      protocolVersion: this.connection.protocolVersion,
      inFlight: this.window.inFlight + this.otherInFlight + this.states.inFlight,
      published: this.publisher.published,
      acked: this.acked,
      refused: this.refusedCount,
      ratePerSec: this.rate.perSecond(),
      lagEvents,
      lastError: this.lastError,
      reconnects: this.connection.reconnects,
      spotStatesDropped: this.states.dropped,
      spotStatesQueued: this.states.queued,
      commandsAccepted: this.commands.accepted,
      commandsRejected: this.commands.rejected,
      commandsWaiting: this.commands.waiting,
      delivery: this.delivery.snapshot(),
      quarantined: this.poison.quarantined,
      poisonSuspect: this.poison.suspect,
      noAckSinceMs: this.stall.noAckSince(lagEvents === null ? this.window.inFlight > 0 : lagEvents > 0),
      reconnectsSinceAck: this.stall.reconnects,
    };
  }

  /** The commands of the broker: queued, refused, held unacknowledged now (the mqtt entry of /api/status). */
  commandCounts(): { commandsAccepted: number; commandsRejected: number; commandsWaiting: number } {
    return { commandsAccepted: this.commands.accepted, commandsRejected: this.commands.rejected, commandsWaiting: this.commands.waiting };
  }

  /** Publishes a quarantined event again (POST /api/quarantine/:id/resend); it leaves the quarantine on its PUBACK. */
  resend(quarantineId: number): ResendOutcome {
    const channel = this.connection.ready ? this.channel : null;
    return this.resender.resend(quarantineId, channel, this.connection.generation, this.room(), this.windowLimit);
  }

  // --- connection events ----------------------------------------------------

  private connected(client: UpstreamClient, connack: Connack): void {
    this.downSince = null;
    this.poison.connected();
    this.stall.connected();
    this.channel = openChannel(client, connack, this.connection.protocolVersion, this.rawPublish);
    const receiveMaximum = connack.properties?.receiveMaximum ?? 65535;
    // The broker's Receive Maximum is a hard limit (MQTT 5 3.3.4): at 1, an event with a PB form goes out one message at a time.
    this.windowLimit = Math.max(1, Math.min(this.maxInFlight, receiveMaximum));
    this.logger.info(
      { protocolVersion: this.connection.protocolVersion, window: this.windowLimit },
      `mqtt: connected (MQTT ${this.connection.protocolVersion === 5 ? '5' : '3.1.1'}, ${this.windowLimit} in flight)`,
    );
    this.states.gatewayState({ topic: this.topics.gatewayState(this.gatewayId), payload: 'online', retain: true });
    const generation = this.connection.generation;
    client.subscribe(this.topics.commandFilters(), { qos: 1 }, (err) => {
      // A SUBACK came (also one refusing the filters: its error carries the packet), not a flush at close.
      if ((!err || (err as { packet?: unknown }).packet) && generation === this.connection.generation) this.poison.subscribed();
      if (err && generation === this.connection.generation) {
        this.lastError = `subscribe to commands failed: ${describe(err)}`;
        this.logger.warn({}, `mqtt: ${this.lastError}`);
      }
    });
    this.needsResync = true;
    this.pump();
  }

  private disconnected(reason: string, byBroker: boolean): void {
    this.downSince ??= this.now();
    this.cursors.flush();
    // Only the broker dropping the connection says something about an event; our own drops do not.
    if (byBroker) this.poison.lost(this.window.oldest(), reason, this.otherInFlight === 0 && this.states.inFlight === 0);
    this.stall.disconnected();
    this.commands.reset();
    this.resender.lost(reason);
    this.channel = null;
    this.window.clear();
    this.otherInFlight = 0;
    this.states.lost();
    this.releaseDrainWaiters();
    this.cursors.flush();
  }

  // --- publishing -----------------------------------------------------------

  private appended(spot: string, lastId: number, events?: readonly ForwardEvent[]): void {
    try {
      this.feed.appended(spot, lastId, events);
    } catch (err) {
      // The spot is not scheduled now; the replay after a new connection picks its events up.
      this.lastError = `reading the cursor of spot ${spot} failed: ${describe(err)}`;
      this.logger.error({ spot }, `mqtt: ${this.lastError}; replaying from the cursors after a reconnect`);
      if (this.connection.ready) this.connection.lost(this.connection.generation, this.lastError);
      return;
    }
    if (this.connection.ready) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Fills the window: state messages in their share, then events round robin over spots (one bounded batch per turn), then states in what is left. */
  private pump(): void {
    const client = this.connection.ready;
    if (!client || !this.running) return;
    const generation = this.connection.generation;
    this.sendStates(client, generation, true);
    if (generation === this.connection.generation) this.pumpEvents(generation);
    if (generation === this.connection.generation) this.sendStates(client, generation, false);
  }

  private pumpEvents(generation: number): void {
    try {
      // A suspected poison event goes out alone, before the replay; the rest waits for its PUBACK (poison-guard.ts).
      if (this.needsResync && this.poison.holdForProbe((event) => this.sendProbe(event, generation))) return;
      if (this.needsResync) {
        // Everything above the cursors goes out again, in order: the replay after each connect.
        this.cursors.flush();
        this.feed.reset();
        this.needsResync = false;
      }
      const room = this.room();
      const channel = this.channel;
      if (room <= 0 || !channel) return;
      this.feed.take(
        room,
        (event) => this.publisher.publish(channel, generation, event, this.windowLimit < 2) && generation === this.connection.generation,
        this.pbSlots(),
      );
      const flushed = safely(() => channel.flush());
      if (flushed !== true && generation === this.connection.generation) this.broken(generation, `writing to the broker failed: ${flushed}`);
    } catch (err) {
      this.storeTrouble(`reading the store failed: ${describe(err)}`);
    }
  }

  /** The suspected poison event, alone; false when the connection broke, or when it waits for room ("online" holds a slot). */
  private sendProbe(event: ForwardEvent, generation: number): boolean {
    const channel = this.channel;
    if (!channel || this.room() < (event.pb ? this.pbSlots() : 1) || !this.publisher.publish(channel, generation, event, this.windowLimit < 2)) return false;
    const flushed = safely(() => channel.flush());
    if (flushed !== true) this.broken(generation, `writing to the broker failed: ${flushed}`);
    return flushed === true;
  }

  /** `receivedAt`: the event's receipt, for its delivery time; null when the message was refused. */
  private messageAcked(spot: string, id: number, receivedAt: number | null): void {
    const { eventDone, advanceTo } = this.window.acked(spot, id);
    if (eventDone) {
      this.poison.acked(spot, id);
      this.stall.acked();
      this.acked++;
      this.rate.add(1);
      if (receivedAt !== null) this.delivery.delivered(receivedAt, this.now());
    }
    if (advanceTo !== undefined) this.cursors.advance(spot, advanceTo);
    if (this.window.inFlight === 0) this.releaseDrainWaiters();
    // Refill at once: a broker with Nagle on sends further PUBACKs only when our TCP ACK (piggybacked) comes.
    this.schedulePump();
  }

  private refused(spot: string, id: number, reason: string): void {
    this.refusedCount++;
    this.lastError = `spot ${spot}: event ${id} skipped: ${reason}`;
    this.logger.warn({ spot, eventId: id }, `mqtt: ${this.lastError}`);
  }

  /** Slots an event with a PB form takes at once: one on a window of one (its messages go one after the other). */
  private pbSlots(): number {
    return this.windowLimit < 2 ? 1 : 2;
  }

  /** Writing to the broker failed: the connection of `generation` is lost. */
  private broken(generation: number, reason: string): void {
    this.lastError = reason;
    this.connection.lost(generation, reason);
  }

  /** Window slots free now (events, resends and state messages hold them). */
  private room(): number {
    return this.windowLimit - this.window.inFlight - this.otherInFlight - this.states.inFlight;
  }

  private sendStates(client: UpstreamClient, generation: number, reserved: boolean): void {
    if (this.states.queued === 0) return;
    // A loss with a spot state in flight beside the suspect would count no strike (poison-guard.ts).
    const probing = this.needsResync && this.poison.probing;
    const sent = this.states.sendThrough(client, this.windowLimit, this.room(), reserved, probing, (topic, err) => {
      if (generation !== this.connection.generation) return;
      this.states.acked();
      if (err) this.logger.warn({ topic }, `mqtt: publish to ${topic} failed: ${describe(err)}`);
      // Its slot is free: events or states may be waiting for it, and no event ack may come to pump them.
      this.schedulePump();
    });
    if (sent !== true) this.connection.lost(generation, `publishing a state message failed: ${sent}`);
  }

  /** The store failed: say so, and try again in a second instead of crashing. */
  private storeTrouble(reason: string): void {
    this.lastError = reason;
    this.logger.error({}, `mqtt: ${reason}; retrying in 1 s`);
    if (this.retryTimer !== null) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, 1000);
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
