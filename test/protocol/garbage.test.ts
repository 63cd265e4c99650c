// Every kind of garbage, through both decoders: one reject per run, nothing valid lost, the same in any pieces.
import test from 'ava';
import { createJsonDecoder, createPbDecoder, createPbEncoder, encodeJsonEvent, type DecodedItem, type StreamDecoder } from '../../gateway/src/protocol/index.js';
import { GARBAGE_KINDS } from '../bench/codec/garbage.js';
import { concat, decodeInPieces, invariantViolations, summary } from './helpers.js';

const MB = 1 << 20;
const before = { resource: 'presence', action: 'create', data: { item_code: 'e28011700000020a1b2c3d4e', proximity: 'near' } };
const after = { resource: 'spot', action: 'update', data: { online: true } };

/** Cuts at every 64 KiB, as node's HTTP parser hands a socket read over, plus odd ones. */
function pieces(length: number): number[] {
  const cuts: number[] = [];
  for (let at = 65536; at < length; at += 65536) cuts.push(at, at + 7);
  return cuts;
}

/** The longest start of `bytes` made of whole PB frames: where a PB stream can go on after it. */
function wholeFrames(bytes: Uint8Array): number {
  let pos = 0;
  while (pos < bytes.length) {
    let len = 0;
    let p = pos;
    let prefixDone = false;
    for (let shift = 0; shift < 35 && p < bytes.length && !prefixDone; shift += 7) {
      const b = bytes[p++]!;
      len += (b & 0x7f) * 2 ** shift;
      prefixDone = b < 0x80;
    }
    if (!prefixDone || p + len > bytes.length) return pos;
    pos = p + len;
  }
  return pos;
}

function kinds(items: DecodedItem[]): string[] {
  return items.map((i) => (i.kind === 'event' ? `${i.event.resource} ${i.event.action}` : 'rejected'));
}

function check(decoder: () => StreamDecoder, stream: Uint8Array): DecodedItem[] {
  return decodeInPieces(decoder(), stream, pieces(stream.length));
}

for (const kind of GARBAGE_KINDS) {
  const garbage = kind.make(MB);

  test(`JSON, ${kind.name}: one reject for 1 MB, the events around it decoded, the same in any pieces`, (t) => {
    const head = encodeJsonEvent(before);
    // The decoder resynchronises at a blank line.
    const stream = concat([head, garbage, new TextEncoder().encode('\n\n'), encodeJsonEvent(after)]);
    const items = check(() => createJsonDecoder(), stream);
    const whitespace = kind.name === 'whitespace';
    t.deepEqual(kinds(items), whitespace ? ['presence create', 'spot update'] : ['presence create', 'rejected', 'spot update']);
    t.deepEqual(invariantViolations(items, stream.length), []);
    const reject = items[1];
    if (!whitespace && reject?.kind === 'rejected') {
      t.is(reject.rejected.offset, head.length + garbage.findIndex((b) => b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a));
      t.true(reject.rejected.raw.length <= 1024 && reject.rejected.raw.length > 0);
    }
    t.deepEqual(summary(decodeInPieces(createJsonDecoder(), stream, [1000, 4096, 500000])), summary(items));
  });

  test(`PB, ${kind.name}: one reject for 1 MB, the event before it decoded, and the one after it when the garbage ends on a frame`, (t) => {
    const encoder = createPbEncoder();
    const head = encoder.encode(before);
    const tail = encoder.encode(after);
    const aligned = garbage.subarray(0, wholeFrames(garbage));
    // Garbage that cannot be framed to its end swallows what follows: PB has no marker to resynchronise on.
    const body = aligned.length > 0 ? aligned : garbage;
    const stream = concat([head, body, tail]);
    const items = check(() => createPbDecoder(), stream);
    t.deepEqual(kinds(items), aligned.length > 0 ? ['presence create', 'rejected', 'spot update'] : ['presence create', 'rejected']);
    t.deepEqual(invariantViolations(items, stream.length), []);
    const reject = items[1];
    if (reject?.kind === 'rejected') {
      t.is(reject.rejected.offset, head.length);
      if (aligned.length > 0) t.is(reject.rejected.length, aligned.length);
      t.deepEqual(reject.rejected.raw, body.slice(0, 1024), 'raw: the first 1024 bytes of the run');
    }
    t.deepEqual(summary(decodeInPieces(createPbDecoder(), stream, [1000, 4096, 500000])), summary(items));
  });
}

test('a run of malformed messages is one reject that keeps the numbering of the events after it', (t) => {
  const encoder = createPbEncoder();
  const zeros = new Uint8Array(1000);
  const items = decodeInPieces(createPbDecoder(), concat([encoder.encode(before), zeros, encoder.encode(after)]));
  const [, reject, last] = items;
  t.true(reject?.kind === 'rejected' && reject.rejected.messages === 1000 && reject.rejected.index === 1);
  t.is(reject?.kind === 'rejected' && reject.rejected.reason, 'malformed frame: frame holds no event (first of 1000 malformed messages in a row)');
  t.true(last?.kind === 'event' && last.event.index === 1001, 'the event after 1000 empty frames is the 1002nd message');
});
