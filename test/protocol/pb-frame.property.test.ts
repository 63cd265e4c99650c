// Single frames (MQTT payloads): any bytes decode or fail with a reason, and what decodes re-encodes stably.
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { decodeFrame, encodeFrame } from '../../gateway/src/protocol/index.js';

const vectors = JSON.parse(readFileSync(new URL('../../shared-schema/vectors/events.json', import.meta.url), 'utf8')) as { pb_hex: string }[];
const frames = vectors.map((v) => Uint8Array.from(Buffer.from(v.pb_hex, 'hex')));

/** Key order aside, the same JSON value (PB -> JSON may place an odd value before the extras). */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

const mutatedFrame = fc
  .tuple(fc.nat(frames.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: -1, max: 255 })), { minLength: 1, maxLength: 4 }))
  .map(([which, edits]) => {
    const bytes = Array.from(frames[which]!);
    for (const [at, value] of edits) {
      const pos = at % (bytes.length + 1);
      if (value < 0) bytes.splice(pos, 1);
      else if (pos < bytes.length && at % 2 === 0) bytes[pos] = value;
      else bytes.splice(pos, 0, value);
    }
    return Uint8Array.from(bytes);
  });

test('any bytes given to decodeFrame decode or fail with a reason, and never throw', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutatedFrame), (bytes) => {
      const result = decodeFrame(bytes);
      if (!result.ok) {
        t.regex(result.reason, /^malformed frame: ./);
        return;
      }
      t.is(typeof result.event.data, 'object');
    }),
    { numRuns: 2000 },
  );
});

test('whatever a frame decodes to, encoding and decoding it again gives the same event', (t) => {
  let decoded = 0;
  fc.assert(
    fc.property(mutatedFrame, (bytes) => {
      const first = decodeFrame(bytes);
      if (!first.ok) return;
      decoded++;
      const again = decodeFrame(encodeFrame(first.event));
      if (!again.ok) return t.fail(again.reason);
      t.is(`${again.event.resource} ${again.event.action}`, `${first.event.resource} ${first.event.action}`);
      t.is(sortedJson(again.event.data), sortedJson(first.event.data));
      t.is(again.event.boot, first.event.boot);
      t.is(again.event.seq, first.event.seq);
    }),
    { numRuns: 2000 },
  );
  t.true(decoded > 30, `only ${decoded} mutated frames decoded`);
});
