// One MQTT connection over a TCP or TLS socket, encoded and parsed with mqtt-packet (the maintained
// codec mqtt.js is built on), no MQTT client library: CONNECT/CONNACK (MQTT 5 or 3.1.1), QoS 1
// publishes settled by packet id, SUBSCRIBE/SUBACK, inbound PUBLISH acknowledged when the handler
// is done, keepalive, DISCONNECT. It never reconnects or resends: the caller makes a new client per
// connection and replays from its cursors (broker-connection.ts). docs/mqtt.md, "Connection".
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import mqttPacket, { type IConnackPacket, type IPublishPacket, type Packet, type Parser } from 'mqtt-packet';
import type { ConnectOptions, Connack, InboundPublish, PublishOptions, UpstreamClient } from '../options.js';
import { FrameTap } from './frame-tap.js';
import { Keepalive } from './keepalive.js';
import { PacketIds } from './packet-ids.js';
import { connectPacket, DISCONNECT, encode, PINGREQ, publishPacket, pubackPacket, subscribePacket, type Version } from './packets.js';
import { parseBrokerUrl, tlsFailure, tlsOptions, type BrokerTarget } from './target.js';

export type PublishDone = (err?: Error) => void;

/** An error carrying an MQTT reason code (`code`), as the forwarder's refusal handling expects. */
export function mqttError(message: string, code: number, packet?: Packet): Error {
  return Object.assign(new Error(message), packet ? { code, packet } : { code });
}

// CONNACK return codes of MQTT 3.1.1 (3.2.2.3) and the MQTT 5 reason codes a broker sends most.
const CONNACK_V4: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};
const REASON_V5: Record<number, string> = {
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8b: 'server shutting down',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over',
  0x93: 'receive maximum exceeded',
  0x95: 'packet too large',
  0x97: 'quota exceeded',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0x9f: 'connection rate exceeded',
};

function reasonText(version: Version, code: number, connack: boolean): string {
  const name = version === 5 || !connack ? REASON_V5[code] : CONNACK_V4[code];
  return `0x${code.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''}`;
}

/** A system error (ECONNREFUSED, ECONNRESET, ...), not one of the TLS layer. */
function isErrno(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** An error of the TLS layer (OpenSSL's ERR_SSL_* codes). */
function isSslError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_SSL');
}

export class WireClient extends EventEmitter implements UpstreamClient {
  handleMessage: (packet: InboundPublish, done: (err?: Error) => void) => void = (_packet, done) => done();
  private readonly version: Version;
  private readonly target: BrokerTarget;
  private readonly socket: net.Socket;
  private readonly parser: Parser;
  private readonly tap: FrameTap;
  private readonly keepalive: Keepalive;
  private readonly ids = new PacketIds();
  /** Callbacks of publishes awaiting their PUBACK, by packet id (an array: a Map rehashed at tens of thousands a second). */
  private readonly waiting: Array<PublishDone | undefined> = new Array<PublishDone | undefined>(65536).fill(undefined);
  private readonly subscribing = new Map<number, (err: Error | null) => void>();
  private connectTimer: NodeJS.Timeout | null;
  private up = false;
  /** The TCP connection (and the TLS handshake, for mqtts) is made. */
  private secured = false;
  private closed = false;
  private ending: (() => void) | null = null;
  /** The broker's MQTT 5 Maximum Packet Size, from its CONNACK. */
  brokerMaximumPacketSize: number | undefined;

  /** Connects at once; a bad URL or an unreadable TLS file throws here. */
  constructor(url: string, private readonly options: ConnectOptions) {
    super();
    this.version = options.protocolVersion;
    this.target = parseBrokerUrl(url);
    if (!this.target.tls && options.tls && (options.tls.caFile ?? options.tls.certFile ?? options.tls.keyFile) !== undefined) {
      throw new Error(`TLS files are configured but ${url} is not an mqtts:// URL`);
    }
    this.parser = mqttPacket.parser({ protocolVersion: this.version });
    this.parser.on('packet', (packet: Packet) => this.received(packet));
    this.parser.on('error', (err: Error) => this.fail(`the broker sent a malformed packet: ${err.message}`));
    this.tap = new FrameTap((id, code) => this.settle(id, code));
    this.keepalive = new Keepalive(options.keepaliveSeconds, {
      ping: () => this.send(PINGREQ),
      dead: (reason) => this.fail(`connection dead: ${reason}`),
    });
    const { host, port } = this.target;
    const socket = this.target.tls ? tls.connect(tlsOptions(this.target, options.tls ?? {})) : net.connect({ host, port });
    this.socket = socket;
    socket.once(this.target.tls ? 'secureConnect' : 'connect', () => {
      this.secured = true;
      this.opened();
    });
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    // TLS 1.3: a broker refusing the client's certificate sends its alert after the handshake looked done.
    socket.on('error', (err: Error) => this.emit('error', this.target.tls && (!this.secured || isSslError(err)) && !isErrno(err) ? tlsFailure(this.target, err) : err));
    socket.on('close', () => this.gone());
    this.connectTimer = setTimeout(() => this.fail(`no CONNACK within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
  }

  // --- what the forwarder calls ----------------------------------------------

  /** A QoS 1 PUBLISH encoded by mqtt-packet (state messages and the rawPublish: false path). */
  publish(topic: string, payload: string | Buffer, opts: PublishOptions, cb: PublishDone): this {
    const packetId = this.track(cb);
    const props = this.version === 5 ? opts.properties : undefined;
    const bytes = encode(publishPacket(topic, payload, packetId, opts.retain ?? false, props), this.version);
    const max = this.brokerMaximumPacketSize;
    if (max !== undefined && bytes.length > max) {
      this.untrack(packetId);
      cb(mqttError(`packet of ${bytes.length} bytes is over the broker's maximum of ${max}`, 0x95));
      return this;
    }
    this.write(bytes);
    return this;
  }

  subscribe(filters: string[], _opts: { qos: 1 }, cb: (err: Error | null) => void): this {
    const packetId = this.ids.allocate();
    if (packetId === null) throw new Error('no MQTT packet id free');
    this.subscribing.set(packetId, cb);
    this.send(subscribePacket(packetId, filters));
    return this;
  }

  /** force: drop the socket now. Otherwise a DISCONNECT (the broker drops the will), then `cb` once the socket closed. */
  end(force = false, _opts?: object, cb?: () => void): this {
    if (this.closed) {
      cb?.();
      return this;
    }
    if (cb) this.ending = cb;
    if (force || !this.up) {
      this.socket.destroy();
      return this;
    }
    this.up = false;
    this.keepalive.stop();
    this.socket.end(encode(DISCONNECT, this.version));
    return this;
  }

  /** PUBACKs settled straight from the byte stream (all of them, unless one came for no awaited id). */
  get pubacksTapped(): number {
    return this.tap.claims;
  }

  /** A packet id whose PUBACK will call `done`; throws when all 65535 are in use. */
  track(done: PublishDone): number {
    const packetId = this.ids.allocate();
    if (packetId === null) throw new Error('no MQTT packet id free');
    this.waiting[packetId] = done;
    return packetId;
  }

  /** Gives back a tracked id whose packet was never written. */
  untrack(packetId: number): void {
    this.waiting[packetId] = undefined;
    this.ids.deallocate(packetId);
  }

  /** Writes encoded packets (the raw channel's slabs); throws once the connection is closed. */
  write(chunk: Buffer): void {
    if (this.closed || !this.socket.writable) throw new Error('the connection to the broker is closed');
    this.keepalive.sent();
    this.socket.write(chunk);
  }

  // --- what the broker sends -------------------------------------------------

  private opened(): void {
    const o = this.options;
    const fields = {
      protocolVersion: this.version,
      clientId: o.clientId,
      clean: o.clean,
      keepaliveSeconds: o.keepaliveSeconds,
      will: o.will,
      sessionExpirySeconds: o.sessionExpirySeconds,
      maximumPacketSize: o.maximumPacketSize,
      ...(this.target.username !== undefined ? { username: this.target.username } : {}),
      ...(this.target.password !== undefined ? { password: this.target.password } : {}),
    };
    this.send(connectPacket(fields));
  }

  private data(chunk: Buffer): void {
    this.keepalive.received();
    for (const piece of this.tap.filter(chunk)) {
      if (this.closed) return;
      this.parser.parse(piece);
    }
  }

  private received(packet: Packet): void {
    switch (packet.cmd) {
      case 'connack':
        this.connack(packet);
        return;
      case 'puback':
        // One the tap did not claim: not awaited (a duplicate, or a packet id of an earlier connection).
        return;
      case 'suback':
        this.suback(packet.messageId ?? 0, packet.granted as number[]);
        return;
      case 'publish':
        this.inbound(packet);
        return;
      case 'pingresp':
        return;
      case 'disconnect': {
        const reason = packet.properties?.reasonString;
        this.fail(`the broker disconnected: reason ${reasonText(5, packet.reasonCode ?? 0, false)}${reason ? `: ${reason}` : ''}`);
        return;
      }
      default:
        this.fail(`the broker sent an unexpected ${packet.cmd.toUpperCase()} packet`);
    }
  }

  private connack(packet: IConnackPacket): void {
    if (this.up || this.connectTimer === null) {
      this.fail('the broker sent a second CONNACK');
      return;
    }
    clearTimeout(this.connectTimer);
    this.connectTimer = null;
    const code = this.version === 5 ? (packet.reasonCode ?? 0) : (packet.returnCode ?? 0);
    if (code !== 0) {
      const reason = packet.properties?.reasonString;
      this.emit('error', mqttError(`CONNACK ${reasonText(this.version, code, true)}${reason ? `: ${reason}` : ''}`, code));
      this.socket.destroy();
      return;
    }
    this.up = true;
    this.brokerMaximumPacketSize = packet.properties?.maximumPacketSize;
    this.keepalive.start();
    const connack: Connack = { sessionPresent: packet.sessionPresent };
    if (packet.properties) {
      connack.properties = {};
      if (packet.properties.receiveMaximum !== undefined) connack.properties.receiveMaximum = packet.properties.receiveMaximum;
      if (packet.properties.maximumPacketSize !== undefined) connack.properties.maximumPacketSize = packet.properties.maximumPacketSize;
    }
    this.emit('connect', connack);
  }

  /** A PUBACK: false when nothing awaits this packet id. */
  private settle(packetId: number, code: number): boolean {
    const done = this.waiting[packetId];
    if (!done) return false;
    this.waiting[packetId] = undefined;
    this.ids.deallocate(packetId);
    // 0x10 "no matching subscribers" is a success.
    if (code >= 0x80) done(mqttError(`Publish error: reason code ${reasonText(5, code, false)}`, code));
    else done();
    return true;
  }

  private suback(packetId: number, granted: number[]): void {
    const cb = this.subscribing.get(packetId);
    if (!cb) return;
    this.subscribing.delete(packetId);
    this.ids.deallocate(packetId);
    const refused = granted.find((code) => code >= 0x80);
    if (refused === undefined) cb(null);
    else cb(mqttError(`SUBACK refused a filter: reason ${reasonText(5, refused, false)}`, refused, { cmd: 'suback', messageId: packetId, granted }));
  }

  /** A command: acknowledged (QoS 1) once the handler called `done`, so one not taken yet is delivered again. */
  private inbound(packet: IPublishPacket): void {
    if (packet.qos === 2) {
      this.fail('the broker sent a QoS 2 PUBLISH on a QoS 1 subscription');
      return;
    }
    const message: InboundPublish = {
      topic: packet.topic,
      payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
      retain: packet.retain,
    };
    const id = packet.messageId;
    let settled = false;
    this.handleMessage(message, () => {
      if (settled || packet.qos !== 1 || id === undefined || !this.up) return;
      settled = true;
      this.send(pubackPacket(id));
    });
  }

  // --- the connection's end --------------------------------------------------

  private send(packet: Packet): void {
    this.write(encode(packet, this.version));
  }

  /** A protocol failure: reported once, then the socket is dropped. */
  private fail(reason: string): void {
    if (this.closed) return;
    this.emit('error', new Error(reason));
    this.socket.destroy();
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.up = false;
    this.keepalive.stop();
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.emit('close');
    const ending = this.ending;
    this.ending = null;
    ending?.();
  }
}
