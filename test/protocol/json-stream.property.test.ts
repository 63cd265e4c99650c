// JSON stream decoding: any chunking gives the same events; bad messages never cost good ones.
import test from 'ava';
import fc from 'fast-check';
import { createJsonDecoder, encodeJsonEvent } from '../../gateway/src/protocol/index.js';
import { concat, decodeInPieces, invariantViolations, runsOf, summary } from './helpers.js';

const utf8 = new TextEncoder();

/** A stream as real spots write it: pretty-printed with tabs, CRLF, blank and space-only lines, unicode. */
const RECORDED = [
  '["spot","create",{\r\n\t"spot_id":\t"203",\r\n\t"version":\t"2.3.1",\r\n\t"rfid_swr":\t[1.1, 1.3],\r\n\t"time":\t"2026-03-01T08:00:00Z"\r\n}]\r\n\r\n',
  '\n   \n\t\n',
  '["config","create",{\n\t"rfid_power_dbm":\t27,\n\t"hostname":\t"spöt-東京",\n\t"control_schema":\t{"led":["hit",{"blink":2}]},\n\t"new_key":\tnull\n}]\n\n',
  '["presence","create",{"item_code":"e28011700000020a1b2c3d4e","item_codetype":"EPC Gen2","time_started":"2026-03-01T08:00:01.250Z","time_last":"2026-03-01T08:00:01.250Z","proximity":"near","hold_delay_s":4}]\n \n',
  '["log","create",{"text":"emoji 🛰 and escapes \\" \\\\ \\n \\u00e9 ]}[{","level":"info"}]\n\n\n\n',
  '["hit","create",{"time":"2026-03-01T08:00:02.000Z","item_code":"e28011700000020a1b2c3d4e","antenna":2,"signal_strength":-428}]\n\n',
  '["door","open",{"deep":{"a":[[[]]],"b":{"c":{}}}}]\n\n',
].join('');
const RECORDED_BYTES = utf8.encode(RECORDED);
const EXPECTED = summary(decodeInPieces(createJsonDecoder(), RECORDED_BYTES));

test('the recorded stream decodes to its six events and nothing else', (t) => {
  t.is(EXPECTED.length, 6);
  t.true(EXPECTED.every((s) => s.startsWith('event')));
});

test('split at every single byte boundary, the recorded stream yields the same events', (t) => {
  for (let cut = 1; cut < RECORDED_BYTES.length; cut++) {
    const got = summary(decodeInPieces(createJsonDecoder(), RECORDED_BYTES, [cut]));
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) return t.deepEqual(got, EXPECTED, `cut at ${cut}`);
  }
  t.pass();
});

test('fed one byte at a time, the recorded stream yields the same events', (t) => {
  const cuts = Array.from({ length: RECORDED_BYTES.length }, (_, i) => i);
  t.deepEqual(summary(decodeInPieces(createJsonDecoder(), RECORDED_BYTES, cuts)), EXPECTED);
});

test('split into random pieces, the recorded stream yields the same events', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: RECORDED_BYTES.length - 1 }), { maxLength: 40 }), (cuts) => {
      t.deepEqual(summary(decodeInPieces(createJsonDecoder(), RECORDED_BYTES, cuts)), EXPECTED);
    }),
    { numRuns: 300 },
  );
});

const GOOD = [
  '["presence","update",{"item_code":"a1","proximity":"far"}]',
  '["spot","update",{"online":true}]',
  '["config","update",{"hostname":"x\\ny"}]',
  '["log","create",{"text":"ünïcödé ✓"}]',
];
/** Malformed messages, each self-delimited by the blank line that follows it. */
const BAD: { text: string; reason: RegExp }[] = [
  { text: '["spot","create",{"a":1,}]', reason: /^invalid JSON/ },
  { text: '["spot","create"]', reason: /^not an event/ },
  { text: '[1,2,{}]', reason: /^not an event/ },
  { text: '{"not":"an array"}', reason: /^stray bytes/ },
  { text: 'GET / HTTP/1.1', reason: /^stray bytes/ },
  { text: '["spot","create",{"a":"unterminated}]', reason: /line break inside a string/ },
  { text: '["spot","create",{"a":{"b":1}', reason: /^unterminated/ },
  { text: `["log","create",{"text":"${'z'.repeat(400)}"}]`, reason: /^over the size limit/ },
];

test('malformed messages mixed into a stream: every valid event comes out, each run of bad ones is reported once', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.nat(GOOD.length - 1).map((i) => ({ good: i })), fc.nat(BAD.length - 1).map((i) => ({ bad: i }))), { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (plan, cutSeeds) => {
        const text = plan.map((p) => `${'good' in p ? GOOD[p.good] : BAD[p.bad]!.text}\n\n`).join('');
        const bytes = utf8.encode(text);
        const cuts = cutSeeds.map((s) => (bytes.length > 1 ? 1 + (s % (bytes.length - 1)) : 0));
        const items = decodeInPieces(createJsonDecoder({ maxMessageBytes: 300 }), bytes, cuts);
        const runs = runsOf(plan, (p) => 'bad' in p);
        t.is(items.length, runs.length);
        runs.forEach(({ first: p, messages }, i) => {
          const item = items[i]!;
          if ('good' in p) {
            t.is(item.kind, 'event');
            if (item.kind === 'event') t.deepEqual([item.event.resource, item.event.action, item.event.data], JSON.parse(GOOD[p.good]!));
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

test('random bytes never crash the JSON decoder, and chunking never changes what it reports', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 4, max: 200 }), (bytes, cutSeeds, limit) => {
      const whole = decodeInPieces(createJsonDecoder({ maxMessageBytes: limit }), bytes);
      const cuts = cutSeeds.map((s) => s % (bytes.length + 1));
      const pieces = decodeInPieces(createJsonDecoder({ maxMessageBytes: limit }), bytes, cuts);
      t.deepEqual(summary(pieces), summary(whole));
      t.deepEqual(invariantViolations(whole, bytes.length), []);
    }),
    { numRuns: 500 },
  );
});

const jsonish = fc.constantFrom(...'[]{}",:\\ \t\r\n0123456789-.eEtrufalsn abcü'.split(''));

test('JSON-like noise and mutations of a valid stream never crash the decoder', (t) => {
  const valid = concat(GOOD.map((g) => encodeJsonEvent({ resource: JSON.parse(g)[0], action: JSON.parse(g)[1], data: JSON.parse(g)[2] })));
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(valid.length), fc.oneof(fc.constant(''), fc.string({ unit: jsonish, maxLength: 5 }))), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (edits, cutSeeds) => {
        let text = new TextDecoder().decode(valid);
        for (const [at, insert] of edits) {
          const pos = at % (text.length + 1);
          text = insert === '' ? text.slice(0, pos) + text.slice(pos + 1) : text.slice(0, pos) + insert + text.slice(pos);
        }
        const bytes = utf8.encode(text);
        const whole = decodeInPieces(createJsonDecoder({ maxMessageBytes: 120 }), bytes);
        const cuts = cutSeeds.map((s) => s % (bytes.length + 1));
        t.deepEqual(summary(decodeInPieces(createJsonDecoder({ maxMessageBytes: 120 }), bytes, cuts)), summary(whole));
        t.deepEqual(invariantViolations(whole, bytes.length), []);
      },
    ),
    { numRuns: 500 },
  );
});

test('an unterminated message over the size limit ends at its last non-blank byte, wherever the chunks were cut (trailing blanks spread over chunks)', (t) => {
  const broken = `["log","create",{{"text":"${'x'.repeat(150)}"}]`;
  const bytes = utf8.encode(`${broken} \t\r\n \r\n["spot","update",{"online":true}]\n\n`);
  const whole = summary(decodeInPieces(createJsonDecoder({ maxMessageBytes: 120 }), bytes));
  t.regex(whole[0]!, new RegExp(`^rejected #0 @0 \\+${utf8.encode(broken).length} unterminated message`));
  t.regex(whole[1]!, /^event #1 .* spot update/);
  for (let a = 1; a < bytes.length; a++) {
    for (let b = a; b < bytes.length; b += 7) {
      const got = summary(decodeInPieces(createJsonDecoder({ maxMessageBytes: 120 }), bytes, [a, b]));
      if (JSON.stringify(got) !== JSON.stringify(whole)) return t.deepEqual(got, whole, `cut at ${a} and ${b}`);
    }
  }
  t.pass();
});
