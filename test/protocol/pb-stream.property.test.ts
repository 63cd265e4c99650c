// PB stream decoding: any chunking gives the same events; bad frames never cost good ones.
import test from 'ava';
import fc from 'fast-check';
import { canonicalize, createJsonDecoder, createPbDecoder, createPbEncoder, encodeFrame, type SpotEventBody } from '../../gateway/src/protocol/index.js';
import { concat, decodeInPieces, invariantViolations, runsOf, summary } from './helpers.js';

const CODE = 'e28011700000020a1b2c3d4e';
const RECORDED_EVENTS: (SpotEventBody & { boot?: number; seq?: number })[] = [
  { resource: 'spot', action: 'create', data: { spot_id: 203, version: '2.3.1', rfid_swr: [1.1, 1.3], time: '2026-03-01T08:00:00.000Z' }, boot: 7, seq: 1 },
  { resource: 'config', action: 'create', data: { rfid_power_dbm: 27, hostname: 'spöt-東京', control_schema: { led: ['hit'] }, new_key: null }, boot: 7, seq: 2 },
  { resource: 'presence', action: 'create', data: { item_code: CODE, item_codetype: 'EPC Gen2', time_started: '2026-03-01T08:00:01.250Z', time_last: '2026-03-01T08:00:01.250Z', proximity: 'near', hold_delay_s: 4 }, boot: 7, seq: 3 },
  { resource: 'hit', action: 'create', data: { time: '2026-03-01T08:00:01.300Z', item_code: CODE, antenna: 2, signal_strength: -428 }, boot: 7, seq: 4 },
  { resource: 'log', action: 'create', data: { text: 'emoji 🛰', level: 'info' } },
  { resource: 'presence', action: 'delete', data: { item_code: CODE, time_last: '2026-03-01T08:00:06.000Z', proximity: 'far' }, boot: 7, seq: 5 },
  { resource: 'door', action: 'open', data: { deep: { a: [[[]]] }, time: 5 } },
];

function encodeStream(events: (SpotEventBody & { boot?: number; seq?: number })[]): Uint8Array {
  const encoder = createPbEncoder();
  return concat(events.map((e) => encoder.encode(e)));
}

const RECORDED = encodeStream(RECORDED_EVENTS);
const EXPECTED = summary(decodeInPieces(createPbDecoder(), RECORDED));

test('the recorded PB stream decodes to its events, in canonical JSON form', (t) => {
  t.is(EXPECTED.length, RECORDED_EVENTS.length);
  t.true(EXPECTED.every((s) => s.startsWith('event')));
  const items = decodeInPieces(createPbDecoder(), RECORDED);
  const hit = items[3];
  t.true(hit?.kind === 'event' && hit.event.data['item_code'] === CODE && hit.event.data['time'] === '2026-03-01T08:00:01.300Z');
});

test('split at every single byte boundary, the recorded PB stream yields the same events', (t) => {
  for (let cut = 1; cut < RECORDED.length; cut++) {
    const got = summary(decodeInPieces(createPbDecoder(), RECORDED, [cut]));
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) return t.deepEqual(got, EXPECTED, `cut at ${cut}`);
  }
  t.pass();
});

test('split into random pieces, the recorded PB stream yields the same events', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: RECORDED.length - 1 }), { maxLength: 40 }), (cuts) => {
      t.deepEqual(summary(decodeInPieces(createPbDecoder(), RECORDED, cuts)), EXPECTED);
    }),
    { numRuns: 300 },
  );
});

const GOOD: SpotEventBody[] = [
  { resource: 'presence', action: 'update', data: { item_code: 'a1', proximity: 'far', time_last: '2026-03-01T08:00:01.000Z' } },
  { resource: 'presence', action: 'update', data: { item_code: 'b2', proximity: 'near', time_last: '2026-03-01T08:00:00.500Z' } },
  { resource: 'spot', action: 'update', data: { online: true } },
  { resource: 'log', action: 'create', data: { text: 'ünïcödé ✓', time: '2026-03-01T08:00:02.000Z' } },
];
const prefixed = (frame: number[]): number[] => [frame.length, ...frame];
/** Malformed frames (none carries a time or an item code, so the stream's trick state is untouched). */
const BAD: { bytes: number[]; reason: RegExp }[] = [
  { bytes: [0x00], reason: /frame holds no event/ },
  { bytes: prefixed([0xf0, 0x01, 0x07]), reason: /frame holds no event/ },
  { bytes: prefixed([0x32, 0x02, 0x10, 0x3c]), reason: /unknown item reference 60/ },
  { bytes: prefixed([0x32, 0x03, 0x0a, 0x01, 0xff]), reason: /invalid UTF-8/ },
  { bytes: prefixed([0x32, 0x02, 0x2a, 0x00]), reason: /field proximity: wire type 2/ },
  { bytes: prefixed([0x32, 0x05, 0x08, 0x01]), reason: /length past the end/ },
  { bytes: prefixed([0x12, 0x00, 0x12, 0x00]), reason: /more than one event/ },
  { bytes: prefixed([0xa2, 0x01, 0x09, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x1a, 0x01, 0x7b]), reason: /not valid JSON/ },
  { bytes: [0xac, 0x02, ...new Array(300).fill(0x0b)], reason: /^over the size limit \(200 bytes\)/ },
];

test('malformed frames mixed into a stream: every valid event comes out, each run of bad ones is reported once', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.nat(GOOD.length - 1).map((i) => ({ good: i })), fc.nat(BAD.length - 1).map((i) => ({ bad: i }))), { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (plan, cutSeeds) => {
        const encoder = createPbEncoder();
        const bytes = concat(plan.map((p) => ('good' in p ? encoder.encode(GOOD[p.good]!) : Uint8Array.from(BAD[p.bad]!.bytes))));
        const cuts = cutSeeds.map((s) => (bytes.length > 1 ? 1 + (s % (bytes.length - 1)) : 0));
        const items = decodeInPieces(createPbDecoder({ maxMessageBytes: 200 }), bytes, cuts);
        const runs = runsOf(plan, (p) => 'bad' in p);
        t.is(items.length, runs.length);
        runs.forEach(({ first: p, messages }, i) => {
          const item = items[i]!;
          if ('good' in p) {
            t.is(item.kind, 'event');
            if (item.kind === 'event') t.deepEqual(item.event.data, GOOD[p.good]!.data);
          } else {
            t.is(item.kind, 'rejected');
            if (item.kind === 'rejected') t.regex(item.rejected.reason, BAD[p.bad]!.reason);
            if (item.kind === 'rejected') t.is(item.rejected.messages, messages);
          }
        });
        t.deepEqual(invariantViolations(items, bytes.length), []);
      },
    ),
    { numRuns: 200 },
  );
});

test('random bytes never crash the PB decoder, and chunking never changes what it reports', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 4, max: 200 }), (bytes, cutSeeds, limit) => {
      const whole = decodeInPieces(createPbDecoder({ maxMessageBytes: limit }), bytes);
      const cuts = cutSeeds.map((s) => s % (bytes.length + 1));
      t.deepEqual(summary(decodeInPieces(createPbDecoder({ maxMessageBytes: limit }), bytes, cuts)), summary(whole));
      t.deepEqual(invariantViolations(whole, bytes.length), []);
    }),
    { numRuns: 500 },
  );
});

test('mutations of a valid PB stream never crash the decoder', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(RECORDED.length), fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 255 }))), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (edits, cutSeeds) => {
        const bytes = Array.from(RECORDED);
        for (const [at, value] of edits) {
          const pos = at % (bytes.length + 1);
          if (value < 0) bytes.splice(pos, 1);
          else if (pos < bytes.length && at % 2 === 0) bytes[pos] = value;
          else bytes.splice(pos, 0, value);
        }
        const stream = Uint8Array.from(bytes);
        const whole = decodeInPieces(createPbDecoder(), stream);
        const cuts = cutSeeds.map((s) => s % (stream.length + 1));
        t.deepEqual(summary(decodeInPieces(createPbDecoder(), stream, cuts)), summary(whole));
        t.deepEqual(invariantViolations(whole, stream.length), []);
      },
    ),
    { numRuns: 500 },
  );
});

const codes = Array.from({ length: 80 }, (_, i) => `e2801170${i.toString(16).padStart(16, '0')}`);
const anyEvent = fc.oneof(
  fc.record({
    resource: fc.constantFrom('presence', 'hit', 'antenna_presence', 'hit_report'),
    action: fc.constant('create'),
    data: fc.record(
      {
        item_code: fc.constantFrom(...codes),
        time: fc.integer({ min: -62167219200000, max: 253402300799999 }).map((ms) => new Date(ms).toISOString()),
        time_last: fc.integer({ min: 0, max: 2 ** 42 }).map((ms) => new Date(ms).toISOString()),
        antenna: fc.nat(8),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({ resource: fc.constant('spot'), action: fc.constant('update'), data: fc.record({ online: fc.boolean() }, { requiredKeys: [] }) }),
  fc.record({ resource: fc.constant('door'), action: fc.constant('open'), data: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) }),
);

test('any sequence of events survives a PB stream: canonical data back, pb equal to the trick-free frame', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(anyEvent, fc.option(fc.nat(1000), { nil: undefined })), { maxLength: 120 }), (list) => {
      const events = list.map(([e, seq]) => (seq === undefined ? e : { ...e, boot: 1, seq }));
      const stream = encodeStream(events);
      const items = decodeInPieces(createPbDecoder(), stream, [Math.floor(stream.length / 3)]);
      t.is(items.length, events.length);
      items.forEach((item, i) => {
        const expected = events[i]!;
        if (item.kind !== 'event') return t.fail(item.rejected.reason);
        t.is(JSON.stringify(item.event.data), JSON.stringify(canonicalize(expected.resource, expected.action, expected.data)));
        t.is(Buffer.from(item.event.pb!).toString('hex'), Buffer.from(encodeFrame(expected)).toString('hex'));
      });
    }),
    { numRuns: 150 },
  );
});

test('both decoders copy what they keep: a caller may reuse its buffer after push()', (t) => {
  const json = Buffer.from(
    '["presence","create",{"item_code":"ab"}]\n\n["spot","update",{"online":true}]\n\n garbage\n\n["log","create",{"text":"x"}]',
  );
  const pb = Buffer.from(RECORDED);
  for (const [name, make, bytes] of [
    ['json', () => createJsonDecoder({ maxMessageBytes: 30 }), json],
    ['pb', () => createPbDecoder(), pb],
  ] as const) {
    const expected = summary(decodeInPieces(make(), new Uint8Array(bytes)));
    for (const size of [1, 2, 3, 7, 16]) {
      const decoder = make();
      const items = [];
      const scratch = Buffer.alloc(size);
      for (let i = 0; i < bytes.length; i += size) {
        const n = bytes.copy(scratch, 0, i, i + size);
        items.push(...decoder.push(scratch.subarray(0, n)));
        scratch.fill(0xee);
      }
      items.push(...decoder.end());
      t.deepEqual(summary(items), expected, `${name} in reused pieces of ${size}`);
    }
  }
});
