// A quick look at a frame's wire shape that never throws: what it rules out, the reader would fail on.
import { isUtf8 } from './utf8.js';
import { eventKindByFrameField, GENERIC_FRAME_FIELD, TIMESTAMP_FIELD, type FieldSpec, type MessageSpec } from './schema.js';

// The reader throws where a value cannot be read (a truncated varint, a length past the end), and
// a throw costs ~1 us in V8 even without a stack trace: a stream of garbage frames two bytes long
// would pay it every two bytes. Every condition below is one on which readFrameInto fails, and none
// is checked past a field that changes the stream's trick state (field 9, item_code): such a frame
// is left to the reader, which updates the state before it fails.

const TWO_32 = 4294967296;
/** The value of the varint varintEnd read last (exact below 2^53; larger values only compare as large). */
let value = 0;

/** Position after the varint at buf[pos], or -1 when it runs past `end` or over 10 bytes. */
function varintEnd(buf: Uint8Array, pos: number, end: number): number {
  let v = 0;
  let scale = 1;
  for (let i = 0; i < 10 && pos < end; i++) {
    const b = buf[pos++]!;
    v += (b & 0x7f) * scale;
    if (b < 0x80) {
      value = v;
      return pos;
    }
    scale *= 128;
  }
  return -1;
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
  while (pos < end) {
    pos = varintEnd(buf, pos, end);
    if (pos < 0 || value >= TWO_32) return Shape.Bad;
    const wireType = value & 7;
    const field = spec.byNumber[value >>> 3];
    if (field !== undefined) {
      if (field.number === TIMESTAMP_FIELD || field === spec.itemCode) return Shape.Stateful;
      if (!wireTypeFits(field, wireType)) return Shape.Bad;
      if (field.kind === 'string') {
        // Read as text, so it must be UTF-8 (the reader throws on it otherwise).
        const at = varintEnd(buf, pos, end);
        if (at < 0 || value > end - at || !isUtf8(buf, at, at + value)) return Shape.Bad;
        pos = at + value;
        continue;
      }
    }
    pos = valueEnd(buf, pos, end, wireType);
    if (pos < 0) return Shape.Bad;
  }
  return Shape.Fits;
}

/** False when readFrameInto is sure to fail on buf[start..end) before it changes any state. */
export function frameMayHoldEvent(buf: Uint8Array, start: number, end: number): boolean {
  let pos = start;
  let events = 0;
  while (pos < end) {
    pos = varintEnd(buf, pos, end);
    if (pos < 0 || value >= TWO_32) return false;
    const number = value >>> 3;
    const wireType = value & 7;
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
