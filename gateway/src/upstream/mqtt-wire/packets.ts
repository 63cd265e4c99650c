// The packets the client sends, as mqtt-packet objects, and their encoding with mqtt-packet's
// generate(). test/upstream/mqtt-packet-contract.test.ts pins the bytes of each against the specs.
import mqttPacket, { type IConnectPacket, type IPublishPacket, type Packet } from 'mqtt-packet';

// Without this, the first generate() builds a cache of 65536 two-byte Buffers for packet ids:
// 6.5 MB of live heap for the life of the process (docs/architecture.md, "Memory").
mqttPacket.writeToStream.cacheNumbers = false;

export type Version = 4 | 5;

export interface ConnectFields {
  protocolVersion: Version;
  clientId: string;
  /** false: the broker keeps the session (queued commands) while the gateway is away. */
  clean: boolean;
  keepaliveSeconds: number;
  username?: string;
  password?: string;
  will: { topic: string; payload: Buffer; retain: boolean };
  /** MQTT 5 only. */
  sessionExpirySeconds: number;
  /** MQTT 5 only: the largest packet the client accepts (commands). */
  maximumPacketSize: number;
}

export function connectPacket(f: ConnectFields): IConnectPacket {
  const packet: IConnectPacket = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: f.protocolVersion,
    clientId: f.clientId,
    clean: f.clean,
    keepalive: f.keepaliveSeconds,
    will: { topic: f.will.topic, payload: f.will.payload, qos: 1, retain: f.will.retain },
  };
  if (f.username !== undefined) packet.username = f.username;
  if (f.password !== undefined) packet.password = Buffer.from(f.password);
  if (f.protocolVersion === 5) {
    packet.properties = { sessionExpiryInterval: f.sessionExpirySeconds, maximumPacketSize: f.maximumPacketSize };
  }
  return packet;
}

export interface PublishProperties {
  contentType?: string;
  userProperties?: Record<string, string>;
}

/** QoS 1, not a duplicate. */
export function publishPacket(topic: string, payload: string | Buffer, messageId: number, retain: boolean, properties?: PublishProperties): IPublishPacket {
  const packet: IPublishPacket = { cmd: 'publish', qos: 1, dup: false, retain, topic, payload, messageId };
  if (properties) packet.properties = properties;
  return packet;
}

export function subscribePacket(messageId: number, filters: readonly string[]): Packet {
  return { cmd: 'subscribe', messageId, subscriptions: filters.map((topic) => ({ topic, qos: 1 })) };
}

/** MQTT 5: reason code 0, success. */
export function pubackPacket(messageId: number): Packet {
  return { cmd: 'puback', messageId };
}

export const PINGREQ: Packet = { cmd: 'pingreq' };

/** Normal disconnection: the broker drops the will. */
export const DISCONNECT: Packet = { cmd: 'disconnect' };

export function encode(packet: Packet, version: Version): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: version });
}
