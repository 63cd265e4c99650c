// Protocol-buffers wire format: a growable writer and a bounds-checked reader.

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const TWO_32 = 4294967296;

/**
 * A fresh copy of src[from..to). Not `slice`: on a Node Buffer that returns a view, and a
 * caller may reuse its buffer once push() returns.
 */
export function copyBytes(src: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(src.subarray(from, to));
}

/**
 * A frame could not be read; the reason says what was wrong. Built without a stack trace: a
 * garbage stream throws one per frame, and capturing the stack cost more than reading the frame.
 */
export class WireError extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** A value could not be read (the reason does not name the field: the caller adds it). */
export class ValueError extends WireError {}

export class Writer {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;

  constructor(size = 256) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  bytes(b: Uint8Array): void {
    this.copy(b, 0, b.length);
  }

  /** Appends src[from..to); short runs by hand (TypedArray#set costs more for a few bytes). */
  copy(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    this.ensure(n);
    if (n < 48) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = from; i < to; i++) buf[pos++] = src[i]!;
    } else {
      this.buf.set(src.subarray(from, to), this.pos);
    }
    this.pos += n;
  }

  /** A non-negative integer up to 2^54. */
  varint(n: number): void {
    this.ensure(10);
    let v = n;
    while (v > 0x7f) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** int32 (and enum) values: negatives take ten bytes, as a sign-extended 64-bit value. */
  int32(n: number): void {
    if (n >= 0) {
      this.varint(n);
      return;
    }
    this.ensure(10);
    let lo = n >>> 0;
    for (let i = 0; i < 4; i++) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    // Byte 5 holds the last 4 bits of lo and 3 bits of the all-ones high word.
    this.buf[this.pos++] = (lo & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = 0xff;
    this.buf[this.pos++] = 0x01;
  }

  sint32(n: number): void {
    this.varint(((n << 1) ^ (n >> 31)) >>> 0);
  }

  /** sint64 for integers with |n| <= 2^52 (the codecs never write larger ones). */
  sint64(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  double(n: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, n, true);
    this.pos += 8;
  }

  /** Length-delimited UTF-8 text. */
  string(s: string): void {
    this.lengthDelimited(utf8Encoder.encode(s));
  }

  lengthDelimited(b: Uint8Array): void {
    this.varint(b.length);
    this.bytes(b);
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export function varintLength(n: number): number {
  let len = 1;
  let v = n;
  while (v > 0x7f) {
    v = Math.floor(v / 128);
    len++;
  }
  return len;
}

const doubleScratch = new Float64Array(1);
const doubleBytes = new Uint8Array(doubleScratch.buffer);

/** Reads a message (or a frame) from buf[pos..end). Every read checks bounds. */
export class Reader {
  buf: Uint8Array;
  pos: number;
  end: number;
  /** The last varint, split in two unsigned 32-bit halves. */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  reset(buf: Uint8Array, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  /** Reads a varint into lo/hi. */
  varint(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) throw new ValueError('truncated varint');
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.lo = b;
      this.hi = 0;
      this.pos = pos;
      return;
    }
    let lo = b & 0x7f;
    let shift = 7;
    while (shift < 28) {
      if (pos >= end) throw new ValueError('truncated varint');
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        this.pos = pos;
        return;
      }
      shift += 7;
    }
    if (pos >= end) throw new ValueError('truncated varint');
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      shift = 3;
      for (;;) {
        if (pos >= end) throw new ValueError('truncated varint');
        if (shift > 31) throw new ValueError('varint longer than 10 bytes');
        b = buf[pos++]!;
        hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
        shift += 7;
      }
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    this.pos = pos;
  }

  /** A varint that must fit a safe non-negative integer (lengths, uint64). */
  uint(): number {
    this.varint();
    if (this.hi === 0) return this.lo;
    if (this.hi >= 0x200000) throw new ValueError('value over 2^53');
    return this.hi * TWO_32 + this.lo;
  }

  /** Zigzag 64-bit; must fit a safe integer. */
  sint64(): number {
    this.varint();
    if (this.hi >= 0x400000) throw new ValueError('value outside the safe integer range');
    const u = this.hi * TWO_32 + this.lo;
    return this.lo & 1 ? -(u + 1) / 2 : u / 2;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new ValueError('truncated double');
    for (let i = 0; i < 8; i++) doubleBytes[i] = this.buf[this.pos + i]!;
    this.pos += 8;
    return doubleScratch[0]!;
  }

  /** Reads a length; returns the end of the length-delimited value. */
  delimitedEnd(): number {
    const len = this.uint();
    const valueEnd = this.pos + len;
    if (valueEnd > this.end) throw new ValueError('length past the end of the message');
    return valueEnd;
  }

  string(): string {
    const valueEnd = this.delimitedEnd();
    const s = decodeUtf8(this.buf, this.pos, valueEnd);
    this.pos = valueEnd;
    return s;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        if (this.pos + 8 > this.end) throw new ValueError('truncated fixed64');
        this.pos += 8;
        return;
      case 2:
        this.pos = this.delimitedEnd();
        return;
      case 5:
        if (this.pos + 4 > this.end) throw new ValueError('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new ValueError(`unsupported wire type ${wireType}`);
    }
  }
}

/** UTF-8 text of buf[start..end); short ASCII without the TextDecoder call. */
export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 32) {
    let s = '';
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return decodeUtf8Slow(buf, start, end);
      s += String.fromCharCode(b);
    }
    return s;
  }
  return decodeUtf8Slow(buf, start, end);
}

function decodeUtf8Slow(buf: Uint8Array, start: number, end: number): string {
  try {
    return utf8Decoder.decode(buf.subarray(start, end));
  } catch {
    throw new ValueError('invalid UTF-8');
  }
}
