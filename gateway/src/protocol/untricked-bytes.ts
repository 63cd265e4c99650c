// A decoded PB frame with both send-layer tricks undone, spliced from the received bytes.
import { TIMESTAMP_FIELD } from './schema.js';
import { varintLength } from './wire.js';

const TIME_TAG_LENGTH = varintLength(TIMESTAMP_FIELD * 8);

/** Where the tricks sat inside the frame, to splice the absolute values back in. */
export interface Splice {
  bodyStart: number;
  lengthStart: number;
  innerStart: number;
  innerEnd: number;
  timeStart: number;
  timeEnd: number;
  time: number;
  timeOffset: number;
  refStart: number;
  refEnd: number;
  ref: number;
}

// Decoded frames' bytes are cut from shared slabs: one small allocation per event costs more
// than the decoding itself. A slab stays alive while any event cut from it is referenced.
const SLAB_SIZE = 65536;
const SLAB_MAX_PIECE = 2048;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

function allocate(n: number): Uint8Array {
  if (n > SLAB_MAX_PIECE) return new Uint8Array(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  // The constructor, not subarray(): subarray() looks up a species constructor on every call.
  const piece = new Uint8Array(slab, slabUsed, n);
  slabUsed += n;
  return piece;
}

/** A copy of buf[start..end) in slab memory. */
function copyOf(buf: Uint8Array, start: number, end: number): Uint8Array {
  const out = allocate(end - start);
  putBytes(out, 0, buf, start, end);
  return out;
}

/** Writes a varint (up to 2^53) at out[pos]; returns the position after it. */
function putVarint(out: Uint8Array, pos: number, n: number): number {
  let lo = n >>> 0;
  let hi = (n - lo) / 4294967296;
  while (hi > 0) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 0x7f) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  out[pos++] = lo;
  return pos;
}

/** Bytes of the varint of n (up to 2^53). */
function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 5;
  for (let v = Math.floor(n / 0x800000000); v > 0; v = Math.floor(v / 128)) size++;
  return size;
}

/** Short runs (fields, item codes) by hand: set() needs a subarray() view of src per call. */
function putBytes(out: Uint8Array, pos: number, src: Uint8Array, from: number, to: number): number {
  if (to - from > 96) {
    out.set(src.subarray(from, to), pos);
    return pos + to - from;
  }
  for (let i = from; i < to; i++) out[pos++] = src[i]!;
  return pos;
}

/** The frame with absolute time and full item code: spliced, not re-encoded. */
export function untrickedBytes(buf: Uint8Array, start: number, end: number, s: Splice, codeField: Uint8Array | undefined): Uint8Array {
  const timeChanged = s.timeStart >= 0 && s.timeOffset !== s.time;
  const hasRef = s.refStart >= 0;
  if (!timeChanged && !hasRef) return copyOf(buf, start, end);
  const zz = s.time >= 0 ? s.time * 2 : -s.time * 2 - 1;
  let delta = 0;
  if (codeField) delta += codeField.length - (s.refEnd - s.refStart);
  if (timeChanged) delta += TIME_TAG_LENGTH + varintSize(zz) - (s.timeEnd - s.timeStart);
  const innerLength = s.innerEnd - s.innerStart + delta;
  const out = allocate(end - start + delta + varintSize(innerLength) - (s.innerStart - s.lengthStart));
  let pos = putBytes(out, 0, buf, start, s.lengthStart);
  pos = putVarint(out, pos, innerLength);
  let at = s.innerStart;
  // Replace the (at most two) trick fields in position order.
  const refFirst = !timeChanged || (hasRef && s.refStart < s.timeStart);
  for (let step = 0; step < 2; step++) {
    const doRef = step === 0 ? refFirst : !refFirst;
    if (doRef && codeField) {
      pos = putBytes(out, pos, buf, at, s.refStart);
      pos = putBytes(out, pos, codeField, 0, codeField.length);
      at = s.refEnd;
    } else if (!doRef && timeChanged) {
      pos = putBytes(out, pos, buf, at, s.timeStart);
      pos = putVarint(out, pos, TIMESTAMP_FIELD * 8);
      pos = putVarint(out, pos, zz);
      at = s.timeEnd;
    }
  }
  putBytes(out, pos, buf, at, end);
  return out;
}
