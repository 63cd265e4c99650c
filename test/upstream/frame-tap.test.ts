import test from 'ava';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { FrameTap, type PubackClaim } from '../../gateway/src/upstream/mqtt-wire/frame-tap.js';

// Packets a broker sends a publishing client: PUBACKs (3.1.1 and MQTT 5 forms, with a reason
// code and properties), PUBLISH (commands, small and over 127 bytes so the length takes 2+ bytes),
// SUBACK, PINGRESP, CONNACK.
type Sent = { bytes: Buffer; pubackId?: number; reasonCode?: number };

function puback(id: number, form: 'v4' | 'v5-short' | 'v5-code' | 'v5-props', reasonCode = 0): Sent {
  const packet: mqttPacket.IPubackPacket = { cmd: 'puback', messageId: id };
  if (form === 'v4') return { bytes: mqttPacket.generate(packet, { protocolVersion: 4 }), pubackId: id, reasonCode: 0 };
  if (form === 'v5-short') return { bytes: Buffer.from([0x40, 2, id >> 8, id & 0xff]), pubackId: id, reasonCode: 0 };
  packet.reasonCode = reasonCode;
  if (form === 'v5-props') packet.properties = { reasonString: 'r'.repeat(200) };
  return { bytes: mqttPacket.generate(packet, { protocolVersion: 5 }), pubackId: id, reasonCode };
}

function other(kind: number, size: number): Sent {
  const v = { protocolVersion: 5 } as const;
  if (kind === 0) return { bytes: mqttPacket.generate({ cmd: 'publish', topic: 'to/4711/json/config/update', payload: Buffer.alloc(size, 0x61), qos: 1, messageId: 7, dup: false, retain: false }, v) };
  if (kind === 1) return { bytes: mqttPacket.generate({ cmd: 'suback', messageId: 9, granted: [1, 1] }, v) };
  if (kind === 2) return { bytes: mqttPacket.generate({ cmd: 'pingresp' }, v) };
  return { bytes: mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }, { protocolVersion: 4 }) };
}

const sentArb: fc.Arbitrary<Sent> = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.constantFrom<'v4' | 'v5-short' | 'v5-code' | 'v5-props'>('v4', 'v5-short', 'v5-code', 'v5-props'), fc.constantFrom(0, 0x10, 0x87, 0x97)).map(([id, form, code]) => puback(id, form, code)),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 20000 })).map(([kind, size]) => other(kind, size)),
);

/** Splits bytes at the given cut points (any position, empty pieces allowed). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

test('claimed PUBACKs are taken out, everything else passes byte for byte in order, for any chunking', (t) => {
  fc.assert(
    fc.property(fc.array(sentArb, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), fc.integer({ min: 0, max: 2 }), (sent, cuts, rule) => {
      // Which ids the forwarder claims: all, the even ones, none.
      const ours = (id: number) => (rule === 0 ? true : rule === 1 ? id % 2 === 0 : false);
      const claimed: Array<[number, number]> = [];
      const tap = new FrameTap((id, code) => {
        if (!ours(id)) return false;
        claimed.push([id, code]);
        return true;
      });
      const passed: Buffer[] = [];
      for (const piece of split(Buffer.concat(sent.map((s) => s.bytes)), cuts)) passed.push(...tap.filter(piece));
      const expectedPass = Buffer.concat(sent.filter((s) => s.pubackId === undefined || !ours(s.pubackId)).map((s) => s.bytes));
      const expectedClaims = sent.filter((s) => s.pubackId !== undefined && ours(s.pubackId)).map((s) => [s.pubackId!, s.reasonCode!]);
      t.deepEqual(Buffer.concat(passed), expectedPass);
      t.deepEqual(claimed, expectedClaims);
      t.is(tap.claims, expectedClaims.length);
    }),
    { numRuns: 300 },
  );
});

test('one byte at a time: a 4-byte remaining length and a PUBACK split inside its header', (t) => {
  const big = other(0, 3_000_000).bytes; // remaining length in 4 bytes
  const ack = puback(300, 'v5-code', 0x10).bytes;
  const stream = Buffer.concat([ack, big.subarray(0, 64)]);
  const claimed: number[] = [];
  const tap = new FrameTap((id) => (claimed.push(id), true));
  const out: Buffer[] = [];
  for (const b of stream) out.push(...tap.filter(Buffer.from([b])));
  t.deepEqual(claimed, [300]);
  t.deepEqual(Buffer.concat(out), big.subarray(0, 64));
});

test('a PUBACK nobody awaits passes on to the parser whole', (t) => {
  const none: PubackClaim = () => false;
  const tap = new FrameTap(none);
  const bytes = puback(5, 'v4').bytes;
  t.deepEqual(Buffer.concat(tap.filter(bytes)), bytes);
  t.is(tap.claims, 0);
});

test('framing that makes no sense (a 5-byte length) passes through from there on, for the parser to report', (t) => {
  const tap = new FrameTap(() => true);
  const garbage = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 2, 3]);
  t.deepEqual(Buffer.concat(tap.filter(garbage)), garbage);
  const later = puback(1, 'v4').bytes;
  t.deepEqual(Buffer.concat(tap.filter(later)), later, 'after losing the framing nothing is claimed');
});
