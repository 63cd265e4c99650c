// Garbage runs check UTF-8 without a TextDecoder throw: the check must agree with the fatal decoder.
import test from 'ava';
import fc from 'fast-check';
import { isUtf8 } from '../../gateway/src/protocol/utf8.js';

const fatal = new TextDecoder('utf-8', { fatal: true });

function decodes(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const highBytes = fc.uint8Array({ maxLength: 12 }).map((b) => b.map((x) => (x < 64 ? x : 0x80 + (x % 0x80))));

test('the UTF-8 check agrees with a fatal TextDecoder on bytes that are mostly high', (t) => {
  fc.assert(
    fc.property(highBytes, (bytes) => t.is(isUtf8(bytes, 0, bytes.length), decodes(bytes), Buffer.from(bytes).toString('hex'))),
    { numRuns: 50000 },
  );
});

test('every string TextEncoder writes passes, also as a part of a larger buffer', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => {
      const bytes = new TextEncoder().encode(text);
      const framed = new Uint8Array([0xff, ...bytes, 0xc3]);
      t.true(isUtf8(bytes, 0, bytes.length) && isUtf8(framed, 1, framed.length - 1));
    }),
    { numRuns: 3000 },
  );
});
