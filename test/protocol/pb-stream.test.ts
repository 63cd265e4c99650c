// PB stream framing and the send-layer tricks, case by case.
import test from 'ava';
import {
  createPbDecoder,
  createPbEncoder,
  decodeFrame,
  encodeFrame,
  sniffEncoding,
  canSniff,
  type DecodedItem,
} from '../../gateway/src/protocol/index.js';
import { concat, decodeInPieces } from './helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const code = (i: number): string => `e2801170000002${i.toString(16).padStart(10, '0')}`;

function events(items: DecodedItem[]): Record<string, unknown>[] {
  return items.map((i) => (i.kind === 'event' ? i.event.data : { rejected: i.rejected.reason }));
}

test('timestamps go out as offsets from the previous one and come back absolute', (t) => {
  const enc = createPbEncoder();
  const a = enc.encode({ resource: 'sense', action: 'update', data: { input: 1, time: '2026-03-01T08:00:00.000Z' } });
  const b = enc.encode({ resource: 'sense', action: 'update', data: { input: 1, time: '2026-03-01T08:00:00.250Z' } });
  t.is(hex(b), '077205080148f403', 'offset 250 ms: zigzag 500');
  const items = createPbDecoder().push(concat([a, b]));
  t.deepEqual(events(items).map((d) => d['time']), ['2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.250Z']);
});

test('an item code already sent becomes a reference; pb carries the full code again', (t) => {
  const enc = createPbEncoder();
  const ev = { resource: 'presence', action: 'update', data: { item_code: code(1), proximity: 'near' } };
  const first = enc.encode(ev);
  const second = enc.encode(ev);
  t.true(second.length < 8, 'sent as item_ref');
  const items = createPbDecoder().push(concat([first, second]));
  const last = items[1];
  if (last?.kind !== 'event') return t.fail();
  t.is(last.event.data['item_code'], code(1));
  t.is(hex(last.event.pb!), hex(encodeFrame(ev)));
});

test('the item table holds 64 codes; later new codes always go in full', (t) => {
  const enc = createPbEncoder();
  const frames = Array.from({ length: 70 }, (_, i) => enc.encode({ resource: 'hit', action: 'create', data: { item_code: code(i) } }));
  const again = [0, 63, 64, 69].map((i) => enc.encode({ resource: 'hit', action: 'create', data: { item_code: code(i) } }));
  t.deepEqual(again.map((f) => f.length < 8), [true, true, false, false]);
  const items = createPbDecoder().push(concat([...frames, ...again]));
  t.deepEqual(events(items.slice(70)).map((d) => d['item_code']), [code(0), code(63), code(64), code(69)]);
});

test('the tricks are scoped to one stream: a new decoder does not know the previous one', (t) => {
  const enc = createPbEncoder();
  enc.encode({ resource: 'hit', action: 'create', data: { item_code: code(1) } });
  const ref = enc.encode({ resource: 'hit', action: 'create', data: { item_code: code(1) } });
  const items = decodeInPieces(createPbDecoder(), ref);
  t.is(items[0]?.kind === 'rejected' && items[0].rejected.reason, 'malformed frame: unknown item reference 1');
});

test('frames carry boot and seq', (t) => {
  const enc = createPbEncoder();
  const items = createPbDecoder().push(enc.encode({ resource: 'spot', action: 'update', data: { online: true }, boot: 3, seq: 2 ** 53 - 1 }));
  const first = items[0];
  t.true(first?.kind === 'event' && first.event.boot === 3 && first.event.seq === 2 ** 53 - 1);
});

test('an over-limit frame is skipped as it streams by and reported with its length', (t) => {
  const enc = createPbEncoder();
  const big = enc.encode({ resource: 'log', action: 'create', data: { text: 'x'.repeat(5000) } });
  const small = enc.encode({ resource: 'spot', action: 'update', data: { online: true } });
  const bytes = concat([small, big, small]);
  const cuts = Array.from({ length: Math.ceil(bytes.length / 100) }, (_, i) => i * 100);
  const items = decodeInPieces(createPbDecoder({ maxMessageBytes: 1000 }), bytes, cuts);
  t.deepEqual(items.map((i) => i.kind), ['event', 'rejected', 'event']);
  const r = items[1];
  if (r?.kind !== 'rejected') return t.fail();
  t.is(r.rejected.reason, 'over the size limit (1000 bytes)');
  t.is(r.rejected.length, big.length);
  t.is(r.rejected.offset, small.length);
  t.is(r.rejected.raw.length, 1024);
});

test('a stream ending inside a frame rejects it as truncated', (t) => {
  const frame = createPbEncoder().encode({ resource: 'spot', action: 'update', data: { online: true } });
  const items = decodeInPieces(createPbDecoder(), concat([frame, frame.subarray(0, 3)]));
  t.deepEqual(items.map((i) => (i.kind === 'event' ? 'event' : i.rejected.reason)), ['event', 'truncated: the stream ended inside a frame']);
});

test('a length prefix that is no varint makes the rest of the stream one reject', (t) => {
  const frame = createPbEncoder().encode({ resource: 'spot', action: 'update', data: { online: true } });
  const items = decodeInPieces(createPbDecoder(), concat([frame, new Uint8Array(6).fill(0xff), frame]));
  t.deepEqual(items.map((i) => (i.kind === 'event' ? 'event' : i.rejected.reason)), ['event', 'invalid length prefix: the rest of the stream cannot be framed']);
  t.is(items[1]?.kind === 'rejected' && items[1].rejected.length, 6 + frame.length);
});

test('decodeFrame reads an MQTT payload and never throws', (t) => {
  const ok = decodeFrame(encodeFrame({ resource: 'config', action: 'update', data: { brain_address: '10.0.0.2' } }));
  t.deepEqual(ok, { ok: true, event: { resource: 'config', action: 'update', data: { brain_address: '10.0.0.2' } } });
  t.deepEqual(decodeFrame(new Uint8Array([0x32, 0x02, 0x10, 0x01])), { ok: false, reason: 'malformed frame: item_ref outside a stream' });
  t.deepEqual(decodeFrame(new Uint8Array([0xff])), { ok: false, reason: 'malformed frame: truncated varint' });
});

test('PB streams from the encoder are sniffed as PB, whatever their first frame', (t) => {
  for (let len = 1; len < 300; len += 1) {
    const frame = createPbEncoder().encode({ resource: 'log', action: 'create', data: { text: 'x'.repeat(len) } });
    const cfg = createPbEncoder().encode({ resource: 'config', action: 'update', data: { hostname: 'y'.repeat(len) } });
    for (const f of [frame, cfg]) {
      if (!canSniff(undefined, f)) return t.fail(`cannot sniff a ${f.length}-byte frame`);
      if (sniffEncoding(undefined, f) !== 'pb') return t.fail(`${hex(f.subarray(0, 4))} sniffed as JSON`);
    }
  }
  t.pass();
});

test('a large frame fed one byte at a time is joined once and decoded', (t) => {
  const enc = createPbEncoder();
  const text = 'ü'.repeat(30000);
  const bytes = concat([enc.encode({ resource: 'log', action: 'create', data: { text } }), enc.encode({ resource: 'spot', action: 'update', data: { online: true } })]);
  const decoder = createPbDecoder();
  const items: DecodedItem[] = [];
  for (let i = 0; i < bytes.length; i++) items.push(...decoder.push(bytes.subarray(i, i + 1)));
  items.push(...decoder.end());
  t.deepEqual(events(items), [{ text }, { online: true }]);
});

test('an event the encoder refuses leaves the stream in step with its receiver', (t) => {
  const enc = createPbEncoder();
  const first = enc.encode({ resource: 'hit', action: 'create', data: { item_code: code(1), time: '2026-03-01T08:00:00.000Z' } });
  // A BigInt passes the field tables and fails only at JSON.stringify, after time and item table moved.
  t.throws(() => enc.encode({ resource: 'hit', action: 'create', data: { item_code: code(2), time: '2026-03-01T09:00:00.000Z', big: 10n } }), { instanceOf: TypeError });
  t.throws(() => enc.encode({ resource: 'hit', action: 'create', data: { item_code: code(3) }, seq: -1 }), { instanceOf: RangeError });
  const next = enc.encode({ resource: 'hit', action: 'create', data: { item_code: code(2), time: '2026-03-01T08:00:01.000Z' } });
  const items = createPbDecoder().push(concat([first, next]));
  t.deepEqual(events(items), [
    { item_code: code(1), time: '2026-03-01T08:00:00.000Z' },
    { item_code: code(2), time: '2026-03-01T08:00:01.000Z' },
  ]);
});
