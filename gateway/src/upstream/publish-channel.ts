// How event messages reach the broker: batched raw PUBLISH packets on the mqtt.js socket (fast),
// or mqtt.js publish() (for clients without a socket, e.g. test fakes).
import type { IConnackPacket } from 'mqtt';
import { eventPublishOptions, type UpstreamClient } from './options.js';
import type { PacketIds } from './packet-ids.js';
import type { PubackTap } from './puback-tap.js';
import { measurePublish, writePublish, type PublishFields, type PublishLayout } from './publish-packet.js';

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

/** Packets are written one after the other into slabs of this size (bigger ones get their own). */
const SLAB_BYTES = 256 * 1024;

/**
 * The socket mqtt.js writes to; PUBACKs of our packet ids are ignored by mqtt.js and handled here.
 * Packets are encoded straight into a slab and each flush writes the slab's new part: no buffer
 * per packet and no copy to join them (both showed in CPU profiles at tens of thousands a second).
 */
export class RawChannel implements PublishChannel {
  private pending: Buffer[] = [];
  private slab: Buffer = Buffer.allocUnsafe(SLAB_BYTES);
  /** Start of what the next flush writes, and end of what is encoded. */
  private from = 0;
  private to = 0;
  /** Callbacks by packet id (an array: a Map rehashed its table every few thousand PUBACKs). */
  private readonly waiting: Array<PublishDone | undefined> = new Array<PublishDone | undefined>(65536).fill(undefined);
  private readonly fields: PublishFields;
  private readonly layout: PublishLayout = { topic: 0, payload: 0, contentType: 0, eventId: 0, props: 0, rest: 0, total: 0 };

  constructor(
    private readonly socket: { write(chunk: Buffer): boolean },
    private readonly ids: PacketIds,
    private readonly protocolVersion: 4 | 5,
    private readonly maxPacketSize: number | undefined,
  ) {
    this.fields = { topic: '', payload: '', packetId: 0, v5: protocolVersion === 5 ? { eventId: '', contentType: '' } : undefined };
  }

  publish(topic: string, payload: string | Uint8Array, eventId: string, contentType: string, done: PublishDone): void {
    const packetId = this.ids.allocate();
    if (packetId === null) throw new Error('no MQTT packet id free');
    // One fields object and one layout, refilled for every packet (written before publish returns).
    const fields = this.fields;
    fields.topic = topic;
    fields.payload = payload;
    fields.packetId = packetId;
    if (fields.v5) {
      fields.v5.eventId = eventId;
      fields.v5.contentType = contentType;
    }
    const layout = measurePublish(fields, this.layout);
    if (this.maxPacketSize !== undefined && layout.total > this.maxPacketSize) {
      this.ids.deallocate(packetId);
      done(refusal(`packet of ${layout.total} bytes is over the broker's maximum of ${this.maxPacketSize}`, 0x95));
      return;
    }
    this.waiting[packetId] = done;
    if (layout.total > SLAB_BYTES / 4) {
      this.cut();
      const own = Buffer.allocUnsafe(layout.total);
      writePublish(own, 0, fields, layout);
      this.pending.push(own);
      return;
    }
    if (this.to + layout.total > this.slab.length) {
      this.cut();
      this.slab = Buffer.allocUnsafe(SLAB_BYTES);
      this.from = this.to = 0;
    }
    this.to = writePublish(this.slab, this.to, fields, layout);
  }

  flush(): void {
    this.cut();
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    for (const chunk of chunks) this.socket.write(chunk);
  }

  /** What the slab holds since the last cut goes into the pending list (the socket owns it then). */
  private cut(): void {
    if (this.to > this.from) this.pending.push(this.slab.subarray(this.from, this.to));
    this.from = this.to;
  }

  /** Every packet mqtt.js received ('packetreceive'). */
  received(packet: { cmd: string; messageId?: number; reasonCode?: number }): void {
    if (packet.cmd !== 'puback' || packet.messageId === undefined) return;
    this.acked(packet.messageId, packet.reasonCode ?? 0);
  }

  /** A PUBACK: false when the packet id is not one of this channel's publishes. */
  acked(packetId: number, code: number): boolean {
    const done = this.waiting[packetId];
    if (!done) return false;
    this.waiting[packetId] = undefined;
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

/** The channel for a new connection: raw on the client's socket when it has one (and `raw`), else mqtt.js publish(). */
export function openChannel(client: UpstreamClient, connack: IConnackPacket, ids: PacketIds, tap: PubackTap, version: 4 | 5, raw: boolean): PublishChannel {
  const socket = (client as { stream?: { write?: unknown } }).stream;
  if (!raw || !socket || typeof socket.write !== 'function') return new MqttJsChannel(client, version);
  const maxPacketSize = version === 5 ? connack.properties?.maximumPacketSize : undefined;
  const channel = new RawChannel(socket as { write(chunk: Buffer): boolean }, ids, version, maxPacketSize);
  // PUBACKs reach the channel from the tap (default factory) or, with other factories, from mqtt.js.
  tap.claim = (packetId, reasonCode) => channel.acked(packetId, reasonCode);
  client.on('packetreceive', (packet) => channel.received(packet));
  return channel;
}
