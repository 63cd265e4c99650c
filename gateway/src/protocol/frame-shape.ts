// A quick look at a frame's wire shape that never throws: what it rules out, the reader would fail on.
import { isJsonText } from './json-quick.js';
import { isUtf8 } from './utf8.js';
import { eventKindByFrameField, GENERIC_FRAME_FIELD, TIMESTAMP_FIELD, type FieldSpec, type MessageSpec } from './schema.js';

// The reader throws where a value cannot be read (a truncated varint, a length past the end), and
// a throw costs ~1 us in V8 even without a stack trace: a stream of garbage frames two bytes long
// would pay it every two bytes. Every condition below is one on which readFrameInto fails, and none
// is checked past a field that changes the stream's trick state (field 9, item_code): such a frame
// is left to the reader, which updates the state before it fails.

const TWO_32 = 4294967296;
/** The varint varintEnd read last, in two unsigned 32-bit halves as Reader.varint keeps it (bits past 64 dropped). */
let lo = 0;
let hi = 0;
/** Its value when hi < 2^21 (below 2^53), else Infinity: lengths compare as too long. */
let value = 0;

/** Position after the varint at buf[pos], or -1 where Reader.varint throws (past `end`, over 10 bytes). */
function varintEnd(buf: Uint8Array, pos: number, end: number): number {
  let l = 0;
  let h: number;
  let i = 0;
  for (; i < 4; i++) {
    if (pos >= end) return -1;
    const b = buf[pos++]!;
    l |= (b & 0x7f) << (7 * i);
    if (b < 0x80) return done(pos, l, 0);
  }
  if (pos >= end) return -1;
  let b = buf[pos++]!;
  l |= (b & 0x0f) << 28;
  h = (b & 0x7f) >> 4;
  for (let shift = 3; b >= 0x80; shift += 7) {
    if (pos >= end || shift > 31) return -1;
    b = buf[pos++]!;
    h |= (b & 0x7f) << shift;
  }
  return done(pos, l, h);
}

function done(pos: number, l: number, h: number): number {
  lo = l >>> 0;
  hi = h >>> 0;
  value = hi < 0x200000 ? hi * TWO_32 + lo : Infinity;
  return pos;
}

/** Position after a field's value of this wire type at buf[pos], or -1 when it does not fit. */
function valueEnd(buf: Uint8Array, pos: number, end: number, wireType: number): number {
  switch (wireType) {
    case 0:
      return varintEnd(buf, pos, end);
    case 1:
      return pos + 8 <= end ? pos + 8 : -1;
    case 2: {
      const at = varintEnd(buf, pos, end);
      return at >= 0 && value <= end - at ? at + value : -1;
    }
    case 5:
      return pos + 4 <= end ? pos + 4 : -1;
    default:
      return -1;
  }
}

function wireTypeFits(field: FieldSpec, wireType: number): boolean {
  if (!field.repeated) return wireType === field.wireType;
  return wireType === 2 || wireType === (field.kind === 'double' ? 1 : 0);
}

const enum Shape {
  Bad,
  Fits,
  /** A field that changes the trick state comes first: only reading can tell. */
  Stateful,
}

function messageShape(buf: Uint8Array, pos: number, end: number, spec: MessageSpec): Shape {
  let extraBad = false;
  while (pos < end) {
    pos = varintEnd(buf, pos, end);
    if (pos < 0 || hi !== 0) return Shape.Bad;
    const wireType = lo & 7;
    const field = spec.byNumber[lo >>> 3];
    if (field !== undefined) {
      if (field.number === TIMESTAMP_FIELD || field === spec.itemCode) return Shape.Stateful;
      if (!wireTypeFits(field, wireType)) return Shape.Bad;
      if (field.kind === 'string') {
        // Read as text, so it must be UTF-8, and JSON fields JSON (else the reader throws or fails).
        const at = varintEnd(buf, pos, end);
        if (at < 0 || value > end - at || !isUtf8(buf, at, at + value)) return Shape.Bad;
        if ((field.isNestedJson || field === spec.extraJson) && !isJsonText(new Uint8Array(buf.buffer, buf.byteOffset + at, value))) {
          // extra_json is parsed after every field is read: a later field may still change state.
          if (field !== spec.extraJson) return Shape.Bad;
          extraBad = true;
        }
        pos = at + value;
        continue;
      }
      if ((field.kind === 'uint64' || field.kind === 'sint64') && wireType === 0) {
        // The reader refuses values outside the safe integers (sint64: zigzag, so twice the range).
        const at = varintEnd(buf, pos, end);
        if (at < 0 || hi >= (field.kind === 'uint64' ? 0x200000 : 0x400000)) return Shape.Bad;
        pos = at;
        continue;
      }
    }
    pos = valueEnd(buf, pos, end, wireType);
    if (pos < 0) return Shape.Bad;
  }
  return extraBad ? Shape.Bad : Shape.Fits;
}

/** False when readFrameInto is sure to fail on buf[start..end) before it changes any state. */
export function frameMayHoldEvent(buf: Uint8Array, start: number, end: number): boolean {
  let pos = start;
  let events = 0;
  while (pos < end) {
    pos = varintEnd(buf, pos, end);
    if (pos < 0 || hi !== 0) return false;
    const number = lo >>> 3;
    const wireType = lo & 7;
    const kind = wireType === 2 ? eventKindByFrameField(number) : undefined;
    if (kind === undefined && !(number === GENERIC_FRAME_FIELD && wireType === 2)) {
      pos = valueEnd(buf, pos, end, wireType);
      if (pos < 0) return false;
      continue;
    }
    if (++events > 1) return false;
    pos = varintEnd(buf, pos, end);
    if (pos < 0 || value > end - pos) return false;
    const innerEnd = pos + value;
    if (kind) {
      const shape = messageShape(buf, pos, innerEnd, kind.message);
      if (shape === Shape.Stateful) return true;
      if (shape === Shape.Bad) return false;
    }
    pos = innerEnd;
  }
  return events === 1;
}
