// Downstream: one MQTT message -> a command handed to the gateway, or a warning with the reason.
// A command the store cannot take now is held unacknowledged and tried again, in order.
import { CommandNotQueued, parseCommandMessage, type PbCommandDecoder, type SpotCommand } from './downstream.js';
import { describe, type InboundPublish, type Timers, type UpstreamLogger } from './options.js';
import type { Topics } from './topics.js';

/** How often a held command is tried again. */
export const COMMAND_RETRY_MS = 1000;
/** Commands held unacknowledged at most; one more drops the connection (the broker delivers them again). */
export const COMMAND_HOLD_LIMIT = 100;

export interface CommandIntakeOptions {
  topics: Topics;
  logger: UpstreamLogger;
  onCommand: ((command: SpotCommand) => unknown) | undefined;
  decodePb: PbCommandDecoder | undefined;
  /** Payloads over this are refused unread. */
  maxBytes: number;
  /** Where maxBytes comes from, for the refusal's reason (`commands.max_bytes (256) plus 8192 ...`). */
  maxBytesSource?: string;
  /** A payload over maxBytes was refused (counted with the commands refused as too large). */
  tooLarge?: () => void;
  timers: Timers;
  /** More than COMMAND_HOLD_LIMIT commands wait: the connection must go, with this reason. */
  overflow: (reason: string) => void;
  retryMs?: number;
}

type Outcome = 'settled' | 'later';

interface Waiting {
  packet: InboundPublish;
  done: () => void;
  tries: number;
}

export class CommandIntake {
  accepted = 0;
  rejected = 0;
  /** The command being taken first, the ones that arrived after it behind; none acknowledged yet. */
  private readonly queue: Waiting[] = [];
  private retryTimer: unknown = null;
  /** Moves at reset(): outcomes of an earlier connection's commands are dropped. */
  private generation = 0;
  private readonly retryMs: number;

  constructor(private readonly o: CommandIntakeOptions) {
    this.retryMs = o.retryMs ?? COMMAND_RETRY_MS;
  }

  /** Commands not acknowledged yet (held while the store cannot take them). */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * The client's `handleMessage`: it sends the PUBACK when `done` is called, so a command the gateway
   * has not taken yet is redelivered by the broker. Bad ones are acked: redelivery cannot fix them.
   */
  handle(packet: InboundPublish, done: () => void): void {
    if (this.queue.length >= COMMAND_HOLD_LIMIT) {
      this.o.overflow(`more than ${COMMAND_HOLD_LIMIT} commands wait unacknowledged for the store; the broker delivers them again`);
      return;
    }
    this.queue.push({ packet, done, tries: 0 });
    if (this.queue.length === 1) this.next();
  }

  /** The connection ended (or the forwarder stops): what is held stays unacknowledged, for the broker to deliver again. */
  reset(): void {
    this.generation++;
    this.queue.length = 0;
    if (this.retryTimer !== null) this.o.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private next(): void {
    const head = this.queue[0];
    if (!head) return;
    const generation = this.generation;
    head.tries++;
    this.take(head.packet, (outcome) => {
      if (generation !== this.generation) return;
      if (outcome === 'later') {
        this.retryTimer = this.o.timers.setTimeout(() => {
          this.retryTimer = null;
          this.next();
        }, this.retryMs);
        return;
      }
      if (head.tries > 1) {
        this.o.logger.info({ topic: head.packet.topic }, `mqtt: command queued after the store failed: ${head.packet.topic} (${head.tries} tries)`);
      }
      this.queue.shift();
      head.done();
      this.next();
    });
  }

  private take(packet: InboundPublish, settle: (outcome: Outcome) => void): void {
    const { topic } = packet;
    if (packet.retain) {
      // A retained command would be applied again at every (re)subscribe.
      this.refuse(topic, undefined, `${topic}: retained message; commands must not be retained`, settle);
      return;
    }
    if (packet.payload.length > this.o.maxBytes) {
      // Unread, whatever else is wrong with it: the REST API's rule (size first).
      this.o.tooLarge?.();
      const source = this.o.maxBytesSource ? ` (${this.o.maxBytesSource})` : '';
      this.refuse(topic, undefined, `${topic}: payload of ${packet.payload.length} bytes is over the limit of ${this.o.maxBytes} bytes${source}`, settle);
      return;
    }
    const parsed = parseCommandMessage(this.o.topics, topic, packet.payload, this.o.decodePb, this.o.maxBytes);
    if (!parsed.ok) {
      this.refuse(topic, undefined, parsed.reason, settle);
      return;
    }
    const command = parsed.value;
    if (!this.o.onCommand) {
      this.refuse(topic, command.spot, `${topic}: no command handler configured`, settle);
      return;
    }
    const failed = (err: unknown): void => {
      if (err instanceof CommandNotQueued) this.later(topic, command.spot, err.message, settle);
      else this.refuse(topic, command.spot, `${topic}: ${describe(err)}`, settle);
    };
    let result: unknown;
    try {
      result = this.o.onCommand(command);
    } catch (err) {
      failed(err);
      return;
    }
    if (!(result instanceof Promise)) {
      this.accepted++;
      settle('settled');
      return;
    }
    result.then(() => {
      this.accepted++;
      settle('settled');
    }, failed);
  }

  private later(topic: string, spot: string, reason: string, settle: (outcome: Outcome) => void): void {
    // One warning per held command, not one per try.
    if (this.queue[0]?.tries === 1) {
      this.o.logger.warn({ topic, spot }, `mqtt: command not queued yet: ${topic}: ${reason}; not acknowledged, tried again every ${this.retryMs} ms`);
    }
    settle('later');
  }

  private refuse(topic: string, spot: string | undefined, reason: string, settle: (outcome: Outcome) => void): void {
    this.rejected++;
    this.o.logger.warn({ topic, spot }, `mqtt: command ignored: ${reason}`);
    settle('settled');
  }
}
