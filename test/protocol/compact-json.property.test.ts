// The decoder hands over the data's own text only when it is exactly what JSON.stringify would
// print for the parsed object; otherwise the event is serialised again. Texts are printed with
// every variation a spot could produce: whitespace, escapes, number spellings, repeated keys.
import test from 'ava';
import fc from 'fast-check';
import { createJsonDecoder } from '../../gateway/src/protocol/index.js';
import type { SpotEvent } from '../../gateway/src/protocol/types.js';
import { decodeInPieces } from './helpers.js';

const utf8 = new TextEncoder();

/** A JSON value's text, printed with random but valid choices. */
type Printer = fc.Arbitrary<string>;

const ws: fc.Arbitrary<string> = fc.oneof({ weight: 4, arbitrary: fc.constant('') }, fc.constantFrom(' ', '\t', '\r\n', '\n\t'));

const number: Printer = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.constantFrom('0', '-0', '1.0', '1.50', '0.5', '-0.25', '1e3', '1E3', '2e-2', '-7E+1', '123456789012345', '1234567890123456', '12345678901234567890', '9007199254740993'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);

const plainChars = fc.string({ unit: fc.constantFrom('a', 'b', 'z', '0', '9', ' ', ':', ',', '{', ']', 'é', '東', '🛰', '-', '.', 'e', '/') });
const string: Printer = fc.oneof(
  plainChars.map((s) => JSON.stringify(s)),
  // The same characters written with escapes a spot may use.
  plainChars.map((s) => JSON.stringify(s).replace(/\//g, '\\/').replace(/é/g, '\\u00e9')),
  fc.constantFrom('"a\\"b"', '"\\\\"', '"line\\nbreak"', '"\\u0041"'),
);

const key: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('item_code', 'proximity', 'time', 'a', 'b', 'x_y') },
  fc.constantFrom('0', '1', '10', '2b'),
  plainChars,
);

const value: fc.Memo<string> = fc.memo((depth) =>
  depth <= 1
    ? fc.oneof(number, string, fc.constantFrom('true', 'false', 'null'))
    : fc.oneof(
        { weight: 3, arbitrary: fc.oneof(number, string, fc.constantFrom('true', 'false', 'null')) },
        objectText(depth - 1),
        fc.tuple(fc.array(fc.tuple(ws, value(depth - 1), ws), { maxLength: 4 }), ws).map(([items, w]) => `[${w}${items.map(([a, v, b]) => a + v + b).join(',')}]`),
      ),
);

function objectText(depth: number): Printer {
  return fc
    .tuple(fc.array(fc.tuple(ws, key, ws, ws, value(depth), ws), { maxLength: 5 }), ws, fc.boolean())
    .map(([members, w, repeatFirst]) => {
      const parts = members.map(([a, k, b, c, v, d]) => `${a}${JSON.stringify(k)}${b}:${c}${v}${d}`);
      if (repeatFirst && parts.length > 0) parts.push(parts[0]!);
      return `{${w}${parts.join(',')}}`;
    });
}

const message = fc
  .tuple(ws, fc.constantFrom('presence', 'config', 'hit'), ws, fc.constantFrom('create', 'update'), ws, objectText(3), ws)
  .map(([a, r, b, act, c, data, d]) => `[${a}"${r}"${b},${c}"${act}",${d}${data}]`);

function events(text: string, cuts: number[]): SpotEvent[] {
  const bytes = utf8.encode(`${text}\n\n`);
  return decodeInPieces(createJsonDecoder(), bytes, cuts).flatMap((item) => (item.kind === 'event' ? [item.event] : []));
}

test('the data text is handed over only when it equals JSON.stringify of the parsed data, however the message is chunked', (t) => {
  let fast = 0;
  let total = 0;
  fc.assert(
    fc.property(message, fc.array(fc.nat(400), { maxLength: 6 }), (text, cuts) => {
      const [event] = events(text, cuts);
      if (!event) return; // a message JSON.parse refuses (none expected, but not this test's subject)
      total++;
      if (event.dataJson === undefined) return;
      fast++;
      t.is(event.dataJson, JSON.stringify(event.data), text);
    }),
    { numRuns: 3000 },
  );
  t.true(total > 2500, `messages decoded: ${total}`);
  t.true(fast > 100, `messages handed over as sent: ${fast} of ${total}`);
});

test('compact messages as spots and the load generator send them keep their own text', (t) => {
  const compact = [
    '["presence","create",{"item_code":"e28011700000020a1b2c3d4e","item_codetype":"EPC Gen2","time_started":"2026-03-01T08:00:01.250Z","proximity":"near","hold_delay_s":4}]',
    '["hit","create",{"time":"2026-03-01T08:00:02.000Z","antenna":2,"signal_strength":-428,"tags":[{"a":null},[true,false]]}]',
    '["config","update",{"rfid_power_dbm":27,"hostname":"spöt-東京"}]',
  ];
  for (const text of compact) {
    for (const cuts of [[], [1], [20], [text.length - 3], [5, 40, 60]]) {
      const [event] = events(text, cuts);
      t.is(event?.dataJson, text.slice(text.indexOf('{'), -1), `${text} cut at ${cuts.join(',')}`);
    }
  }
});

test('anything JSON.stringify would print otherwise is serialised again', (t) => {
  const cases = [
    '["a","b",{"x": 1}]', // whitespace
    '["a","b",{"x":1.0}]', // fraction
    '["a","b",{"x":1e3}]', // exponent
    '["a","b",{"x":-0}]', // minus zero
    '["a","b",{"x":12345678901234567}]', // past 2^53
    '["a","b",{"x":"\\u00e9"}]', // escape
    '["a","b",{"x":1,"x":2}]', // repeated key
    '["a","b",{"b":1,"1":2}]', // integer-like key, printed first by JSON.stringify
    '["a","b",\n{"x":1}]',
  ];
  for (const text of cases) {
    const [event] = events(text, []);
    t.truthy(event, text);
    t.is(event!.dataJson, undefined, text);
  }
});
