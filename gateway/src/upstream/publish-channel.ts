// How event messages reach the broker: batched PUBLISH packets encoded by the forwarder into the
// connection's socket (fast), or the client's publish() (one mqtt-packet generate() each; also
// what a test's scripted client takes).
import type { Connack, UpstreamClient } from './options.js';
import { eventPublishOptions } from './options.js';
import { mqttError, WireClient, type PublishDone } from './mqtt-wire/client.js';
import { measurePublish, writePublish, type PublishFields, type PublishLayout } from './mqtt-wire/publish-packet.js';

export type { PublishDone };

export interface PublishChannel {
  /** Queues one QoS 1 message; `done` runs on its PUBACK (with an error carrying `code` if refused). */
  publish(topic: string, payload: string | Uint8Array, eventId: string, contentType: string, done: PublishDone): void;
  /** Sends what was queued. */
  flush(): void;
}

export class ClientChannel implements PublishChannel {
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

/** What the raw channel needs of the connection (WireClient). */
export interface RawSink {
  track(done: PublishDone): number;
  untrack(packetId: number): void;
  write(chunk: Buffer): void;
}

/**
 * Packets are encoded straight into a slab and each flush writes the slab's new part: no buffer
 * per packet and no copy to join them (both showed in CPU profiles at tens of thousands a second).
 */
export class RawChannel implements PublishChannel {
  private pending: Buffer[] = [];
  private slab: Buffer = Buffer.allocUnsafe(SLAB_BYTES);
  /** Start of what the next flush writes, and end of what is encoded. */
  private from = 0;
  private to = 0;
  private readonly fields: PublishFields;
  private readonly layout: PublishLayout = { topic: 0, payload: 0, contentType: 0, eventId: 0, props: 0, rest: 0, total: 0 };

  constructor(
    private readonly sink: RawSink,
    protocolVersion: 4 | 5,
    private readonly maxPacketSize: number | undefined,
  ) {
    this.fields = { topic: '', payload: '', packetId: 0, v5: protocolVersion === 5 ? { eventId: '', contentType: '' } : undefined };
  }

  publish(topic: string, payload: string | Uint8Array, eventId: string, contentType: string, done: PublishDone): void {
    // One fields object and one layout, refilled for every packet (written before publish returns).
    const fields = this.fields;
    fields.topic = topic;
    fields.payload = payload;
    if (fields.v5) {
      fields.v5.eventId = eventId;
      fields.v5.contentType = contentType;
    }
    const layout = measurePublish(fields, this.layout);
    if (this.maxPacketSize !== undefined && layout.total > this.maxPacketSize) {
      done(mqttError(`packet of ${layout.total} bytes is over the broker's maximum of ${this.maxPacketSize}`, 0x95));
      return;
    }
    fields.packetId = this.sink.track(done);
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
    for (const chunk of chunks) this.sink.write(chunk);
  }

  /** What the slab holds since the last cut goes into the pending list (the socket owns it then). */
  private cut(): void {
    if (this.to > this.from) this.pending.push(this.slab.subarray(this.from, this.to));
    this.from = this.to;
  }
}

/** The channel for a new connection: raw on the gateway's own client (when `raw`), else the client's publish(). */
export function openChannel(client: UpstreamClient, connack: Connack, version: 4 | 5, raw: boolean): PublishChannel {
  if (!raw || !(client instanceof WireClient)) return new ClientChannel(client, version);
  const maxPacketSize = version === 5 ? connack.properties?.maximumPacketSize : undefined;
  return new RawChannel(client, version, maxPacketSize);
}
