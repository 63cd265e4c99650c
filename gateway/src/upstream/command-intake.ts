// Downstream: one MQTT message -> a command handed to the gateway, or a warning with the reason.
import { parseCommandMessage, type PbCommandDecoder, type SpotCommand } from './downstream.js';
import { describe, type InboundPublish, type UpstreamLogger } from './options.js';
import type { Topics } from './topics.js';

export class CommandIntake {
  accepted = 0;
  rejected = 0;

  constructor(
    private readonly topics: Topics,
    private readonly logger: UpstreamLogger,
    private readonly onCommand: ((command: SpotCommand) => unknown) | undefined,
    private readonly decodePb: PbCommandDecoder | undefined,
    private readonly maxBytes: number,
  ) {}

  /**
   * The client's `handleMessage`: it sends the PUBACK when `done` is called, so a command the gateway
   * has not taken yet is redelivered by the broker. Bad ones are acked: redelivery cannot fix them.
   */
  handle(packet: InboundPublish, done: (err?: Error) => void): void {
    if (packet.retain) {
      // A retained command would be applied again at every (re)subscribe.
      this.refuse(packet.topic, undefined, `${packet.topic}: retained message; commands must not be retained`, done);
      return;
    }
    const parsed = parseCommandMessage(this.topics, packet.topic, packet.payload, this.decodePb, this.maxBytes);
    if (!parsed.ok) {
      this.refuse(packet.topic, undefined, parsed.reason, done);
      return;
    }
    const command = parsed.value;
    if (!this.onCommand) {
      this.refuse(packet.topic, command.spot, `${packet.topic}: no command handler configured`, done);
      return;
    }
    let result: unknown;
    try {
      result = this.onCommand(command);
    } catch (err) {
      this.refuse(packet.topic, command.spot, `${packet.topic}: ${describe(err)}`, done);
      return;
    }
    Promise.resolve(result).then(
      () => {
        this.accepted++;
        done();
      },
      (err: unknown) => this.refuse(packet.topic, command.spot, `${packet.topic}: ${describe(err)}`, done),
    );
  }

  private refuse(topic: string, spot: string | undefined, reason: string, done: () => void): void {
    this.rejected++;
    this.logger.warn({ topic, spot }, `mqtt: command ignored: ${reason}`);
    done();
  }
}
