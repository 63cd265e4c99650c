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

/** The byte lengths of one packet's parts, measured once (utf-8 lengths cost a scan each). */
export interface PublishLayout {
  topic: number;
  payload: number;
  contentType: number;
  eventId: number;
  props: number;
  rest: number;
  total: number;
}

/** `into`: a layout to fill instead of a new one (the hot path reuses one). */
export function measurePublish(f: PublishFields, into?: PublishLayout): PublishLayout {
  const topic = Buffer.byteLength(f.topic);
  const payload = typeof f.payload === 'string' ? Buffer.byteLength(f.payload) : f.payload.byteLength;
  let contentType = 0;
  let eventId = 0;
  let props = 0;
  let rest = 2 + topic + 2 + payload;
  if (f.v5) {
    contentType = Buffer.byteLength(f.v5.contentType);
    eventId = Buffer.byteLength(f.v5.eventId);
    props = 3 + contentType + 5 + EVENT_ID_KEY.length + eventId;
    rest += varintSize(props) + props;
  }
  const total = 1 + varintSize(rest) + rest;
  if (!into) return { topic, payload, contentType, eventId, props, rest, total };
  into.topic = topic;
  into.payload = payload;
  into.contentType = contentType;
  into.eventId = eventId;
  into.props = props;
  into.rest = rest;
  into.total = total;
  return into;
}

/** Total packet size, so the caller can check a broker's Maximum Packet Size first. */
export function publishSize(f: PublishFields): number {
  return measurePublish(f).total;
}

export function encodePublish(f: PublishFields): Buffer {
  const layout = measurePublish(f);
  const buf = Buffer.allocUnsafe(layout.total);
  writePublish(buf, 0, f, layout);
  return buf;
}

/** Writes the packet at `at` (layout.total bytes must be free there); returns the end. */
export function writePublish(buf: Buffer, at: number, f: PublishFields, layout: PublishLayout): number {
  buf[at++] = 0x32; // PUBLISH, QoS 1, not DUP, not retained
  at = writeVarint(buf, at, layout.rest);
  at = writeString(buf, at, f.topic, layout.topic);
  buf[at++] = f.packetId >> 8;
  buf[at++] = f.packetId & 0xff;
  if (f.v5) {
    at = writeVarint(buf, at, layout.props);
    buf[at++] = CONTENT_TYPE;
    at = writeString(buf, at, f.v5.contentType, layout.contentType);
    buf[at++] = USER_PROPERTY;
    at = writeString(buf, at, EVENT_ID_KEY, EVENT_ID_KEY.length);
    at = writeString(buf, at, f.v5.eventId, layout.eventId);
  }
  if (typeof f.payload === 'string') buf.write(f.payload, at, layout.payload, 'utf8');
  else buf.set(f.payload, at);
  return at + layout.payload;
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

function writeString(buf: Buffer, at: number, s: string, bytes: number): number {
  buf[at] = bytes >> 8;
  buf[at + 1] = bytes & 0xff;
  buf.write(s, at + 2, bytes, 'utf8');
  return at + 2 + bytes;
}
