import test from 'ava';
import { createJsonDecoder, encodeJsonEvent, sniffEncoding, canSniff } from '../../gateway/src/protocol/index.js';
import type { DecodedItem } from '../../gateway/src/protocol/index.js';

const enc = new TextEncoder();

function decodeAll(pieces: (string | Uint8Array)[], maxMessageBytes?: number): DecodedItem[] {
  const d = createJsonDecoder(maxMessageBytes === undefined ? {} : { maxMessageBytes });
  const out: DecodedItem[] = [];
  for (const p of pieces) out.push(...d.push(typeof p === 'string' ? enc.encode(p) : p));
  out.push(...d.end());
  return out;
}

const spotCreate = '["spot","create",{\n\t"spot_id":\t4711,\n\t"version":\t"2.3.1"\n}]\n\n';
const presence =
  '["presence","create",{"item_code":"e28011700000020a1b2c3d4e","item_codetype":"EPC Gen2","time_started":"2026-03-01T08:00:01.250Z","proximity":"near","hold_delay_s":4}]\n \n';

test('decodes the example post split inside a string', (t) => {
  const cut = presence.indexOf('time_st') + 7;
  const items = decodeAll([spotCreate, presence.slice(0, cut), presence.slice(cut)]);
  t.is(items.length, 2);
  const [a, b] = items;
  t.deepEqual(a, {
    kind: 'event',
    event: { resource: 'spot', action: 'create', data: { spot_id: 4711, version: '2.3.1' }, dataJson: undefined, offset: 0, index: 0 },
  });
  t.is(b?.kind, 'event');
  if (b?.kind === 'event') {
    t.is(b.event.offset, enc.encode(spotCreate).length);
    t.is(b.event.index, 1);
    t.is(b.event.data['time_started'], '2026-03-01T08:00:01.250Z');
  }
});

test('many events in one piece, CRLF and blank lines of spaces between them', (t) => {
  const text = `\r\n  \r\n${spotCreate.replace(/\n/g, '\r\n')}   \n\t\n${presence}${presence}`;
  const items = decodeAll([text]);
  t.deepEqual(
    items.map((i) => (i.kind === 'event' ? `${i.event.resource}/${i.event.action}` : 'rejected')),
    ['spot/create', 'presence/create', 'presence/create'],
  );
});

test('events need not be separated by a blank line: the value end is found by scanning', (t) => {
  const items = decodeAll(['["a","b",{"x":"]}"}]["c","d",{}]']);
  t.is(items.length, 2);
  t.deepEqual(items[0]?.kind === 'event' && items[0].event.data, { x: ']}' });
});

test('a multi-byte character split between pieces survives', (t) => {
  const bytes = enc.encode('["log","create",{"text":"Grüße 🛰"}]\n\n');
  const at = bytes.indexOf(0xf0) + 2;
  const items = decodeAll([bytes.subarray(0, at), bytes.subarray(at)]);
  t.is(items[0]?.kind === 'event' && items[0].event.data['text'], 'Grüße 🛰');
});

test('invalid JSON is rejected once and the events around it come out', (t) => {
  const items = decodeAll([presence, '["spot","create",{"a":1,}]\n\n', presence]);
  t.deepEqual(items.map((i) => i.kind), ['event', 'rejected', 'event']);
  const r = items[1];
  if (r?.kind !== 'rejected') return t.fail();
  t.regex(r.rejected.reason, /^invalid JSON/);
  t.is(r.rejected.index, 1);
  t.is(r.rejected.offset, enc.encode(presence).length);
  t.is(new TextDecoder().decode(r.rejected.raw), '["spot","create",{"a":1,}]');
  t.is(r.rejected.length, 26);
  t.is(items[2]?.kind === 'event' && items[2].event.index, 2);
});

test('a message that is not a [string, string, object] triple is rejected with a reason', (t) => {
  // An event between them: malformed messages in a row would be one reject with the first reason.
  const bad = ['["spot","create"]', '[1,"create",{}]', '["spot","create",[]]', '["spot","",{}]'];
  const items = decodeAll([bad.map((m) => `${m}\n\n${presence}`).join('')]).filter((i) => i.kind === 'rejected');
  t.deepEqual(
    items.map((i) => i.rejected.reason),
    [
      'not an event: expected [resource, action, object]',
      'not an event: resource is not a non-empty string',
      'not an event: third element is not an object',
      'not an event: action is not a non-empty string',
    ],
  );
});

test('stray bytes between messages are one rejected message, then decoding resumes', (t) => {
  const items = decodeAll([presence, 'garbage here\nmore garbage\n["spot","update",{"online":true}]\n\n', presence]);
  t.deepEqual(items.map((i) => i.kind), ['event', 'rejected', 'event', 'event']);
  const r = items[1];
  if (r?.kind !== 'rejected') return t.fail();
  t.regex(r.rejected.reason, /^stray bytes/);
  t.is(new TextDecoder().decode(r.rejected.raw), 'garbage here\nmore garbage');
});

test('a missing closing bracket ends at the blank line and does not swallow the next event', (t) => {
  const items = decodeAll(['["spot","create",{"a":1}\n\n', presence]);
  t.deepEqual(items.map((i) => i.kind), ['rejected', 'event']);
  t.regex(items[0]?.kind === 'rejected' ? items[0].rejected.reason : '', /^unterminated/);
});

test('an unterminated string ends at the line break', (t) => {
  const items = decodeAll(['["spot","create",{"a":"b}]\n', presence]);
  t.deepEqual(items.map((i) => i.kind), ['rejected', 'event']);
  t.regex(items[0]?.kind === 'rejected' ? items[0].rejected.reason : '', /line break inside a string/);
});

test('a message over the size limit is skipped and reported with its length', (t) => {
  const big = `["log","create",{"text":"${'x'.repeat(5000)}"}]\n\n`;
  const pieces: string[] = [];
  for (let i = 0; i < big.length; i += 100) pieces.push(big.slice(i, i + 100));
  const items = decodeAll([presence, ...pieces, presence], 1000);
  t.deepEqual(items.map((i) => i.kind), ['event', 'rejected', 'event']);
  const r = items[1];
  if (r?.kind !== 'rejected') return t.fail();
  t.is(r.rejected.reason, 'over the size limit (1000 bytes)');
  t.is(r.rejected.length, big.length - 2);
  t.is(r.rejected.raw.length, 1024);
});

test('a stream ending inside a message rejects it as truncated', (t) => {
  const items = decodeAll([presence, '["spot","create",{"a']);
  t.deepEqual(items.map((i) => i.kind), ['event', 'rejected']);
  t.regex(items[1]?.kind === 'rejected' ? items[1].rejected.reason : '', /^truncated/);
});

test('invalid UTF-8 is rejected', (t) => {
  const items = decodeAll([new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d, 10, 10])]);
  t.is(items[0]?.kind === 'rejected' && items[0].rejected.reason, 'invalid UTF-8');
});

test('the encoder writes compact JSON and an empty line; the decoder reads it back', (t) => {
  const ev = { resource: 'presence', action: 'delete', data: { item_code: 'ab', n: 1.5, s: 'é"\n' } };
  const bytes = encodeJsonEvent(ev);
  t.is(new TextDecoder().decode(bytes), '["presence","delete",{"item_code":"ab","n":1.5,"s":"é\\"\\n"}]\n\n');
  const items = decodeAll([bytes]);
  t.deepEqual(items[0]?.kind === 'event' && items[0].event.data, ev.data);
});

test('sniffing: content type first, then the first significant bytes', (t) => {
  const none = new Uint8Array(0);
  t.is(sniffEncoding('text/x-intellifi-events; charset=utf-8', none), 'json');
  t.is(sniffEncoding('Application/X-Intellifi-Events-PB', enc.encode('[')), 'pb');
  t.is(sniffEncoding(undefined, enc.encode(' \r\n\t["spot"')), 'json');
  t.is(sniffEncoding('application/octet-stream', new Uint8Array([0x0a, 0x32, 0x08])), 'pb');
  t.is(sniffEncoding(undefined, new Uint8Array([0x5b, 0x22, 0x30])), 'pb');
  t.false(canSniff(undefined, enc.encode('  ')));
  t.false(canSniff(undefined, enc.encode('[')));
  t.true(canSniff('text/x-intellifi-events', none));
  t.true(canSniff(undefined, enc.encode('[\n"')));
});

test('the vendor documentation example post, cut where its chunks end, gives its two events', (t) => {
  const body =
    '["spot","create",{\n\t"spot_id":\t4711,\n\t"version":\t"2.3.1",\n\t"boot_count":\t12,\n\t"time":\t"2026-03-01T08:00:00Z"\n}]\n\n' +
    '⏎["presence","create",{"item_code":"e28011700000020a1b2c3d4e","item_codetype":"EPC Gen2","time_st⏎arted":"2026-03-01T08:00:01.250Z","time_last":"2026-03-01T08:00:01.250Z","proximity":"near","hold_delay_s":4}]\n \n⏎';
  const pieces = body.split('⏎');
  const items = decodeAll(pieces);
  t.deepEqual(
    items.map((i) => (i.kind === 'event' ? [i.event.resource, i.event.action, i.event.data] : i.rejected.reason)),
    [
      ['spot', 'create', { spot_id: 4711, version: '2.3.1', boot_count: 12, time: '2026-03-01T08:00:00Z' }],
      [
        'presence',
        'create',
        { item_code: 'e28011700000020a1b2c3d4e', item_codetype: 'EPC Gen2', time_started: '2026-03-01T08:00:01.250Z', time_last: '2026-03-01T08:00:01.250Z', proximity: 'near', hold_delay_s: 4 },
      ],
    ],
  );
});
