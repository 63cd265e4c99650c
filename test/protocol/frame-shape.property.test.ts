// The PB decoder judges garbage frames by their shape alone: it must never rule out a frame the reader accepts.
import test from 'ava';
import fc from 'fast-check';
import { createPbEncoder } from '../../gateway/src/protocol/index.js';
import { frameMayHoldEvent } from '../../gateway/src/protocol/frame-shape.js';
import { newFrameRecord, newReceiveState, readFrameInto, type ReceiveState } from '../../gateway/src/protocol/frame-reader.js';

const CODE = 'e28011700000020a1b2c3d4e';
/** Frames without their length prefix, with item references and time offsets, from one stream. */
const FRAMES: Uint8Array[] = (() => {
  const encoder = createPbEncoder();
  const events = [
    { resource: 'presence', action: 'create', data: { item_code: CODE, time_last: '2026-03-01T08:00:01.250Z', proximity: 'near', hold_delay_s: 4 } },
    { resource: 'hit', action: 'create', data: { time: '2026-03-01T08:00:01.300Z', item_code: CODE, antenna: 2, signal_strength: -428 } },
    { resource: 'spot', action: 'create', data: { spot_id: 203, version: '2.3.1', rfid_swr: [1.1, 1.3], time: '2026-03-01T08:00:00.000Z' }, boot: 7, seq: 3 },
    { resource: 'config', action: 'update', data: { hostname: 'spöt', control_schema: { led: ['hit'] }, new_key: null } },
    { resource: 'door', action: 'open', data: { deep: { a: [1] } } },
  ];
  return events.map((e) => {
    const framed = encoder.encode(e);
    let at = 0;
    while (framed[at]! >= 0x80) at++;
    return framed.subarray(at + 1);
  });
})();

/** A receive state that knows the code, as the stream's first frame left it. */
function knownState(): ReceiveState {
  const state = newReceiveState();
  readFrameInto(FRAMES[0]!, 0, FRAMES[0]!.length, state, newFrameRecord());
  return state;
}

const snapshot = (s: ReceiveState): string => JSON.stringify([s.previousTime, s.codes]);

function ruledOutButReadable(bytes: Uint8Array): string | null {
  if (frameMayHoldEvent(bytes, 0, bytes.length)) return null;
  const state = knownState();
  const before = snapshot(state);
  let accepted: boolean;
  try {
    accepted = readFrameInto(bytes, 0, bytes.length, state, newFrameRecord());
  } catch {
    accepted = false;
  }
  if (accepted) return 'the reader accepted it';
  return snapshot(state) === before ? null : 'the reader changed the trick state before it failed';
}

test('every frame the encoder writes passes the shape check', (t) => {
  for (const frame of FRAMES) t.true(frameMayHoldEvent(frame, 0, frame.length));
});

test('a frame ruled out by its shape is one the reader fails on, before changing any state', (t) => {
  fc.assert(
    fc.property(
      fc.nat(FRAMES.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 255 }))), { minLength: 1, maxLength: 4 }),
      (which, edits) => {
        const bytes = Array.from(FRAMES[which]!);
        for (const [at, value] of edits) {
          const pos = at % (bytes.length + 1);
          if (value < 0) bytes.splice(pos, 1);
          else if (pos < bytes.length && at % 2 === 0) bytes[pos] = value;
          else bytes.splice(pos, 0, value);
        }
        t.is(ruledOutButReadable(Uint8Array.from(bytes)), null, Buffer.from(bytes).toString('hex'));
      },
    ),
    { numRuns: 3000 },
  );
});

test('valid frames with long varints spliced in are ruled out only when the reader fails on them', (t) => {
  // Varints of 5 to 10 bytes: the reader drops bits past 64, and the shape check must too.
  const longVarint = fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 4, maxLength: 9 }).chain((head) => fc.integer({ min: 0, max: 0x7f }).map((last) => [...head, last]));
  fc.assert(
    fc.property(fc.nat(FRAMES.length - 1), fc.nat(), longVarint, fc.boolean(), (which, at, varint, withTag) => {
      const bytes = Array.from(FRAMES[which]!);
      const pos = at % (bytes.length + 1);
      bytes.splice(pos, 0, ...(withTag ? [0x08, ...varint] : varint));
      t.is(ruledOutButReadable(Uint8Array.from(bytes)), null, Buffer.from(bytes).toString('hex'));
    }),
    { numRuns: 3000 },
  );
});

test('random bytes ruled out by their shape are never a frame the reader accepts', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      t.is(ruledOutButReadable(bytes), null, Buffer.from(bytes).toString('hex'));
    }),
    { numRuns: 3000 },
  );
});
