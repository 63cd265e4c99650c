// Resource and action become MQTT topic levels: whatever a broker would refuse is refused at decoding, in JSON and PB.
import test from 'ava';
import {
  createJsonDecoder,
  createPbDecoder,
  MAX_TOPIC_LEVEL_BYTES,
  topicLevelFault,
  topicPrefixFault,
  type DecodedItem,
} from '../../gateway/src/protocol/index.js';
import { concat } from './helpers.js';

const CONTROL = 'a control character MQTT brokers refuse in a topic';
const NONCHARACTER = 'a Unicode noncharacter MQTT brokers refuse in a topic';
const SURROGATE = 'an unpaired surrogate, which has no UTF-8 form';

/** Every class of string that cannot be a topic level, with the reason expected after the field's name. */
const REFUSED: Array<[string, string, string]> = [
  ['NUL', 'a\u0000b', `holds U+0000, ${CONTROL}`],
  ['C0 U+0001', 'a\u0001b', `holds U+0001, ${CONTROL}`],
  ['C0 tab', 'a\tb', `holds U+0009, ${CONTROL}`],
  ['C0 line feed', 'a\nb', `holds U+000A, ${CONTROL}`],
  ['C0 U+001F', '\u001f', `holds U+001F, ${CONTROL}`],
  ['DEL', 'a\u007f', `holds U+007F, ${CONTROL}`],
  ['C1 U+0080', '\u0080x', `holds U+0080, ${CONTROL}`],
  ['C1 NEL', 'x\u0085', `holds U+0085, ${CONTROL}`],
  ['C1 U+009F', '\u009f', `holds U+009F, ${CONTROL}`],
  ['noncharacter U+FDD0', 'a\ufdd0', `holds U+FDD0, ${NONCHARACTER}`],
  ['noncharacter U+FDEF', '\ufdefa', `holds U+FDEF, ${NONCHARACTER}`],
  ['noncharacter U+FFFE', '\ufffe', `holds U+FFFE, ${NONCHARACTER}`],
  ['noncharacter U+FFFF', 'x\uffff', `holds U+FFFF, ${NONCHARACTER}`],
  ['noncharacter U+1FFFE', 'x\u{1fffe}', `holds U+1FFFE, ${NONCHARACTER}`],
  ['noncharacter U+1FFFF', '\u{1ffff}', `holds U+1FFFF, ${NONCHARACTER}`],
  ['noncharacter U+10FFFE', '\u{10fffe}', `holds U+10FFFE, ${NONCHARACTER}`],
  ['noncharacter U+10FFFF', 'a\u{10ffff}', `holds U+10FFFF, ${NONCHARACTER}`],
  ['lone high surrogate', 'a\ud800b', `holds U+D800, ${SURROGATE}`],
  ['lone high surrogate at the end', 'ab\udbff', `holds U+DBFF, ${SURROGATE}`],
  ['lone low surrogate', '\udc00a', `holds U+DC00, ${SURROGATE}`],
  ['surrogates in the wrong order', '\udfff\ud800', `holds U+DFFF, ${SURROGATE}`],
  ['level separator', 'a/b', 'holds "/", the MQTT topic level separator'],
  ['wildcard +', 'a+', 'holds "+", an MQTT wildcard'],
  ['wildcard #', '#', 'holds "#", an MQTT wildcard'],
  ['empty', '', 'is empty'],
  ['too long (ASCII)', 'a'.repeat(MAX_TOPIC_LEVEL_BYTES + 1), `is ${MAX_TOPIC_LEVEL_BYTES + 1} bytes long, over the ${MAX_TOPIC_LEVEL_BYTES} a topic level may take here`],
  ['too long (3-byte characters)', '東'.repeat(86), `is 258 bytes long, over the ${MAX_TOPIC_LEVEL_BYTES} a topic level may take here`],
];

/** Strings next to each refused class that are valid topic levels and must pass. */
const ACCEPTED: Array<[string, string]> = [
  ['plain name', 'presence'],
  ['space and printable ASCII', 'a b~!$%&()*,-.:;<=>?@[]^_`{|}'],
  ['U+00A0, first after C1', '\u00a0'],
  ['Latin-1 and 2-byte', 'spöt-Grüße'],
  ['3-byte', '東京'],
  ['astral (4-byte) emoji', '🛰x'],
  ['U+D7FF, below the surrogates', '\ud7ff'],
  ['U+E000, private use after the surrogates', '\ue000'],
  ['U+FDCF, before the noncharacter block', '\ufdcf'],
  ['U+FDF0, after the noncharacter block', '\ufdf0'],
  ['U+FFFD replacement character', '\ufffd'],
  ['U+1FFFD, below a plane-end noncharacter', '\u{1fffd}'],
  ['U+10FFFD, the last character', '\u{10fffd}'],
  ['U+10000, first astral', '\u{10000}'],
  ['exactly the byte limit', 'a'.repeat(MAX_TOPIC_LEVEL_BYTES)],
  ['the byte limit in 4-byte characters', '🛰'.repeat(MAX_TOPIC_LEVEL_BYTES / 4)],
];

const utf8 = new TextEncoder();

function decodeJson(text: string): DecodedItem[] {
  const decoder = createJsonDecoder();
  return [...decoder.push(utf8.encode(text)), ...decoder.end()];
}

/** A JSON message as a spot writes it: JSON.stringify escapes C0 controls and lone surrogates as \u sequences. */
function jsonEvent(resource: string, action: string): string {
  return `${JSON.stringify([resource, action, { n: 1 }])}\n\n`;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function field(number: number, bytes: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint((number << 3) | 2), ...varint(bytes.length), ...bytes]);
}

/** A length-prefixed Frame holding a GenericEvent (Frame field 20), with resource and action as raw UTF-8 bytes. */
function pbGeneric(resource: Uint8Array, action: Uint8Array): Uint8Array {
  const generic = concat([field(1, resource), field(2, action), field(3, utf8.encode('{"n":1}'))]);
  const frame = field(20, generic);
  return concat([Uint8Array.from(varint(frame.length)), frame]);
}

function decodePb(bytes: Uint8Array): DecodedItem[] {
  const decoder = createPbDecoder();
  return [...decoder.push(bytes), ...decoder.end()];
}

/** No lone surrogates (String#isWellFormed, ES2024). */
function wellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function outcome(items: DecodedItem[]): string[] {
  return items.map((i) => (i.kind === 'event' ? `event ${i.event.resource}/${i.event.action}` : `rejected: ${i.rejected.reason}`));
}

test('every code point class a broker refuses in a topic is named, and the characters beside them pass', (t) => {
  for (const [name, text, reason] of REFUSED) t.is(topicLevelFault(text), reason, name);
  for (const [name, text] of ACCEPTED) t.is(topicLevelFault(text), null, name);
});

test('JSON: an event whose resource or action cannot be a topic level is rejected naming the field and the code point; the next event comes out', (t) => {
  for (const [name, text, reason] of REFUSED) {
    if (text === '') continue; // an empty name is "not an event" before it is a topic question
    // A valid event between the two: malformed messages in a row would be one reject (a run).
    const items = decodeJson(jsonEvent(text, 'create') + jsonEvent('presence', 'update') + jsonEvent('presence', text) + jsonEvent('presence', 'delete'));
    t.deepEqual(outcome(items), [`rejected: resource ${reason}`, 'event presence/update', `rejected: action ${reason}`, 'event presence/delete'], name);
  }
  for (const [name, text] of ACCEPTED) {
    const items = decodeJson(jsonEvent(text, text));
    t.deepEqual(outcome(items), [`event ${text}/${text}`], name);
  }
});

test('JSON: the reason of a control character sent as a \\u escape names it', (t) => {
  const items = decodeJson('["a\\u0001b","x",{}]\n\n');
  t.deepEqual(outcome(items), ['rejected: resource holds U+0001, a control character MQTT brokers refuse in a topic']);
});

test('PB: a generic event whose resource or action cannot be a topic level is a rejected frame naming the field and the code point; the next frame comes out', (t) => {
  const ok = utf8.encode('presence');
  for (const [name, text, reason] of REFUSED) {
    if (text === '' || !wellFormed(text)) continue; // no UTF-8 form: covered by the raw bytes below
    const door = pbGeneric(ok, utf8.encode('door'));
    const bytes = concat([pbGeneric(utf8.encode(text), ok), door, pbGeneric(ok, utf8.encode(text)), door]);
    t.deepEqual(
      outcome(decodePb(bytes)),
      [`rejected: malformed frame: resource ${reason}`, 'event presence/door', `rejected: malformed frame: action ${reason}`, 'event presence/door'],
      name,
    );
  }
  for (const [name, text] of ACCEPTED) {
    t.deepEqual(outcome(decodePb(pbGeneric(utf8.encode(text), utf8.encode(text)))), [`event ${text}/${text}`], name);
  }
});

test('PB: a surrogate encoded in UTF-8 bytes (not well-formed UTF-8) and an empty name are rejected', (t) => {
  const surrogate = Uint8Array.from([0x61, 0xed, 0xa0, 0x80]);
  const ok = utf8.encode('presence');
  t.deepEqual(outcome(decodePb(concat([pbGeneric(surrogate, ok), pbGeneric(ok, ok), pbGeneric(ok, new Uint8Array(0)), pbGeneric(ok, ok)]))), [
    'rejected: malformed frame: invalid UTF-8',
    'event presence/presence',
    'rejected: malformed frame: generic event without resource or action',
    'event presence/presence',
  ]);
});

test('a topic prefix is checked level by level and as a whole', (t) => {
  for (const good of ['', 'site1', 'site1/', 'a/b/c', 'sité/東京']) t.is(topicPrefixFault(good), null, good);
  t.is(topicPrefixFault('a//b'), 'level "" is empty');
  t.is(topicPrefixFault('/a'), 'level "" is empty');
  t.is(topicPrefixFault('site/+'), 'level "+" holds "+", an MQTT wildcard');
  t.is(topicPrefixFault('site\u0001'), `level "site\\u0001" holds U+0001, ${CONTROL}`);
  t.is(topicPrefixFault('x\ufffe/y'), `level "x\ufffe" holds U+FFFE, ${NONCHARACTER}`);
  t.is(topicPrefixFault(Array.from({ length: 11 }, () => 'a'.repeat(100)).join('/')), 'is 1110 bytes long, over the 1024 a topic prefix may take');
});
