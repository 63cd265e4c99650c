// How event messages reach the broker: batched raw PUBLISH packets on the mqtt.js socket (fast),
// or mqtt.js publish() (for clients without a socket, e.g. test fakes).
import { eventPublishOptions, type UpstreamClient } from './options.js';
import type { PacketIds } from './packet-ids.js';
import { encodePublish, publishSize } from './publish-packet.js';

export type PublishDone = (err?: Error) => void;

export interface PublishChannel {
  /** Queues one QoS 1 message; `done` runs on its PUBACK (with an error carrying `code` if refused). */
  publish(topic: string, payload: string | Uint8Array, eventId: string, contentType: string, done: PublishDone): void;
  /** Sends what was queued. */
  flush(): void;
}

export class MqttJsChannel implements PublishChannel {
  constructor(
    private readonly client: UpstreamClient,
    private readonly protocolVersion: 4 | 5,
  ) {}

  publish(topic: string, payload: string | Uint8Array, eventId: string, contentType: string, done: PublishDone): void {
    const body = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    this.client.publish(topic, body, eventPublishOptions(this.protocolVersion, eventId, contentType), (err) => done(err));
  }

  flush(): void {}
}

/** The socket mqtt.js writes to; PUBACKs of our packet ids are ignored by mqtt.js and handled here. */
export class RawChannel implements PublishChannel {
  private pending: Buffer[] = [];
  private readonly waiting = new Map<number, PublishDone>();

  constructor(
    private readonly socket: { write(chunk: Buffer): boolean },
    private readonly ids: PacketIds,
    private readonly protocolVersion: 4 | 5,
    private readonly maxPacketSize: number | undefined,
  ) {}

  publish(topic: string, payload: string | Uint8Array, eventId: string, contentType: string, done: PublishDone): void {
    const packetId = this.ids.allocate();
    if (packetId === null) throw new Error('no MQTT packet id free');
    const fields = { topic, payload, packetId, ...(this.protocolVersion === 5 ? { v5: { eventId, contentType } } : {}) };
    const size = publishSize(fields);
    if (this.maxPacketSize !== undefined && size > this.maxPacketSize) {
      this.ids.deallocate(packetId);
      done(refusal(`packet of ${size} bytes is over the broker's maximum of ${this.maxPacketSize}`, 0x95));
      return;
    }
    this.waiting.set(packetId, done);
    this.pending.push(encodePublish(fields));
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.socket.write(chunk);
  }

  /** Every packet mqtt.js received ('packetreceive'). */
  received(packet: { cmd: string; messageId?: number; reasonCode?: number }): void {
    if (packet.cmd !== 'puback' || packet.messageId === undefined) return;
    this.acked(packet.messageId, packet.reasonCode ?? 0);
  }

  /** A PUBACK: false when the packet id is not one of this channel's publishes. */
  acked(packetId: number, code: number): boolean {
    const done = this.waiting.get(packetId);
    if (!done) return false;
    this.waiting.delete(packetId);
    this.ids.deallocate(packetId);
    // 0x10 "no matching subscribers" is a success.
    if (code >= 0x80) done(refusal(`Publish error: reason code 0x${code.toString(16)}`, code));
    else done();
    return true;
  }
}

function refusal(message: string, code: number): Error {
  return Object.assign(new Error(message), { code });
}
