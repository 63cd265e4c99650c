// MQTT PUBLISH packets (QoS 1) encoded in one buffer: the forwarder's hot path writes them in batches.

export interface PublishFields {
  topic: string;
  payload: string | Uint8Array;
  packetId: number;
  /** MQTT 5: user property event_id and content type; absent for 3.1.1. */
  v5?: { eventId: string; contentType: string };
}

const USER_PROPERTY = 0x26;
const CONTENT_TYPE = 0x03;
const EVENT_ID_KEY = 'event_id';

function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** Total packet size, so the caller can check a broker's Maximum Packet Size first. */
export function publishSize(f: PublishFields): number {
  const rest = remainingLength(f);
  return 1 + varintSize(rest) + rest;
}

function propertiesLength(v5: NonNullable<PublishFields['v5']>): number {
  return 3 + Buffer.byteLength(v5.contentType) + 5 + EVENT_ID_KEY.length + Buffer.byteLength(v5.eventId);
}

function remainingLength(f: PublishFields): number {
  const payload = typeof f.payload === 'string' ? Buffer.byteLength(f.payload) : f.payload.byteLength;
  let n = 2 + Buffer.byteLength(f.topic) + 2 + payload;
  if (f.v5) {
    const props = propertiesLength(f.v5);
    n += varintSize(props) + props;
  }
  return n;
}

export function encodePublish(f: PublishFields): Buffer {
  const rest = remainingLength(f);
  const buf = Buffer.allocUnsafe(1 + varintSize(rest) + rest);
  let at = 0;
  buf[at++] = 0x32; // PUBLISH, QoS 1, not DUP, not retained
  at = writeVarint(buf, at, rest);
  at = writeString(buf, at, f.topic);
  buf.writeUInt16BE(f.packetId, at);
  at += 2;
  if (f.v5) {
    at = writeVarint(buf, at, propertiesLength(f.v5));
    buf[at++] = CONTENT_TYPE;
    at = writeString(buf, at, f.v5.contentType);
    buf[at++] = USER_PROPERTY;
    at = writeString(buf, at, EVENT_ID_KEY);
    at = writeString(buf, at, f.v5.eventId);
  }
  if (typeof f.payload === 'string') buf.write(f.payload, at, 'utf8');
  else buf.set(f.payload, at);
  return buf;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    buf[at++] = digit;
  } while (n > 0);
  return at;
}

function writeString(buf: Buffer, at: number, s: string): number {
  const written = buf.write(s, at + 2, 'utf8');
  buf.writeUInt16BE(written, at);
  return at + 2 + written;
}
