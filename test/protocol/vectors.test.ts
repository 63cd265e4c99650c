// Every conformance vector, both directions, and JSON -> PB -> JSON round trips.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FrameSchema } from '../../gateway/src/gen/spot_pb.js';
import {
  canonicalize,
  createJsonDecoder,
  createPbDecoder,
  createPbEncoder,
  decodeFrame,
  encodeFrame,
  encodeJsonEvent,
  eventToFrame,
  frameToEvent,
  type SpotEventBody,
} from '../../gateway/src/protocol/index.js';

interface EventVector {
  name: string;
  json: string;
  canonical: SpotEventBody;
  boot?: number;
  seq?: number;
  json_compact: string;
  pb_hex: string;
}
interface StreamVector {
  name: string;
  events: (SpotEventBody & { boot?: number; seq?: number })[];
  pb_stream_hex: string;
  json_stream: string;
}

const dir = new URL('../../shared-schema/vectors/', import.meta.url);
const events = JSON.parse(readFileSync(new URL('events.json', dir), 'utf8')) as EventVector[];
const streams = JSON.parse(readFileSync(new URL('streams.json', dir), 'utf8')) as StreamVector[];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Same keys in the same order, same values: compares JSON texts. */
function sameJson(t: { is(a: unknown, b: unknown, m?: string): void }, actual: unknown, expected: unknown, message?: string): void {
  t.is(JSON.stringify(actual), JSON.stringify(expected), message);
}

test('the vectors cover every event kind of spot.proto and the generic event', (t) => {
  const frameFields = FrameSchema.fields.filter((f) => f.oneof?.name === 'body');
  const covered = new Set(events.map((v) => fromBinary(FrameSchema, bytes(v.pb_hex)).body.case));
  const missing = frameFields.map((f) => f.localName).filter((name) => !covered.has(name as never));
  t.deepEqual(missing, []);
  t.is(new Set(events.map((v) => v.name)).size, events.length, 'case names are unique');
});

for (const v of events) {
  test(`vector ${v.name}: JSON text -> canonical -> PB bytes and compact JSON`, (t) => {
    const decoder = createJsonDecoder();
    const items = [...decoder.push(utf8.encode(v.json)), ...decoder.end()];
    t.is(items.length, 1);
    const item = items[0];
    if (item?.kind !== 'event') return t.fail(`rejected: ${JSON.stringify(item)}`);
    t.is(item.event.resource, v.canonical.resource);
    t.is(item.event.action, v.canonical.action);
    sameJson(t, canonicalize(item.event.resource, item.event.action, item.event.data), v.canonical.data);
    const numbered = { ...v.canonical, ...(v.boot !== undefined ? { boot: v.boot } : {}), ...(v.seq !== undefined ? { seq: v.seq } : {}) };
    t.is(hex(encodeFrame(numbered)), v.pb_hex);
    t.is(hex(encodeFrame({ ...numbered, data: item.event.data })), v.pb_hex, 'encoding the raw object canonicalizes it');
    t.is(text.decode(encodeJsonEvent(v.canonical)), v.json_compact);
  });

  test(`vector ${v.name}: PB bytes -> canonical, and protobuf-es agrees on the bytes`, (t) => {
    const decoded = decodeFrame(bytes(v.pb_hex));
    if (!decoded.ok) return t.fail(decoded.reason);
    t.is(decoded.event.resource, v.canonical.resource);
    t.is(decoded.event.action, v.canonical.action);
    sameJson(t, decoded.event.data, v.canonical.data);
    t.is(decoded.event.boot, v.boot);
    t.is(decoded.event.seq, v.seq);
    t.is(hex(toBinary(FrameSchema, fromBinary(FrameSchema, bytes(v.pb_hex)))), v.pb_hex);
    const viaMessage = frameToEvent(eventToFrame(v.canonical));
    t.true(viaMessage.ok && JSON.stringify(viaMessage.event.data) === JSON.stringify(v.canonical.data));
  });

  test(`vector ${v.name}: canonical is a fixed point and JSON -> PB -> JSON returns it`, (t) => {
    sameJson(t, canonicalize(v.canonical.resource, v.canonical.action, v.canonical.data), v.canonical.data);
    const back = decodeFrame(encodeFrame({ resource: v.canonical.resource, action: v.canonical.action, data: JSON.parse(v.json)[2] }));
    t.true(back.ok);
    if (back.ok) sameJson(t, back.event.data, v.canonical.data);
  });
}

for (const s of streams) {
  test(`stream vector ${s.name}: encoders write the expected PB and JSON streams`, (t) => {
    const encoder = createPbEncoder();
    t.is(s.events.map((e) => hex(encoder.encode(e))).join(''), s.pb_stream_hex);
    t.is(s.events.map((e) => text.decode(encodeJsonEvent(e))).join(''), s.json_stream);
  });

  test(`stream vector ${s.name}: the PB decoder undoes the tricks`, (t) => {
    const decoder = createPbDecoder();
    const items = [...decoder.push(bytes(s.pb_stream_hex)), ...decoder.end()];
    t.is(items.length, s.events.length);
    items.forEach((item, i) => {
      const expected = s.events[i]!;
      if (item.kind !== 'event') return t.fail(`frame ${i} rejected: ${item.rejected.reason}`);
      t.is(item.event.index, i);
      t.is(`${item.event.resource} ${item.event.action}`, `${expected.resource} ${expected.action}`);
      sameJson(t, item.event.data, expected.data, `frame ${i}`);
      t.is(item.event.boot, expected.boot);
      t.is(item.event.seq, expected.seq);
      t.is(hex(item.event.pb!), hex(encodeFrame(expected)), `frame ${i}: pb carries absolute time and full item code`);
    });
  });

  test(`stream vector ${s.name}: the JSON decoder reads the JSON stream`, (t) => {
    const decoder = createJsonDecoder();
    const items = [...decoder.push(utf8.encode(s.json_stream)), ...decoder.end()];
    t.deepEqual(
      items.map((i) => (i.kind === 'event' ? JSON.stringify([i.event.resource, i.event.action, i.event.data]) : 'rejected')),
      s.events.map((e) => JSON.stringify([e.resource, e.action, e.data])),
    );
  });
}
