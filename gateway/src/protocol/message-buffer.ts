// The bytes of one message that may span several pieces of a stream, with a cap on what is kept.
import { copyBytes } from './wire.js';

/** Rejected messages keep at most this many of their first bytes. */
export const RAW_LIMIT = 1024;

const EMPTY = new Uint8Array(0);

export class MessageBuffer {
  /** Stream offset of the message's first byte. */
  start = 0;
  /** Bytes of the message seen so far (kept or not). */
  length = 0;
  /** True once only the head is kept (the message is too long to keep whole). */
  headOnly = false;
  private parts: Uint8Array[] = [];
  private kept = 0;
  // A message within one piece is kept as (piece, from) and `kept` until its bytes are asked
  // for: a typed-array view costs more than judging a tiny message of garbage.
  private viewOf: Uint8Array | null = null;
  private viewFrom = 0;

  reset(start: number): void {
    this.start = start;
    this.length = 0;
    this.headOnly = false;
    // Emptied, not replaced: a stream of tiny messages would allocate an array per message
    // (pop, not `length = 0`, which is a runtime call).
    while (this.parts.length > 0) this.parts.pop();
    this.kept = 0;
    this.viewOf = null;
  }

  /** Adds chunk[from..to); copies when the chunk may be reused after this push. */
  append(chunk: Uint8Array, from: number, to: number, copy: boolean): void {
    if (to <= from) return;
    this.length += to - from;
    let end = to;
    if (this.headOnly) {
      if (this.kept >= RAW_LIMIT) return;
      end = Math.min(to, from + RAW_LIMIT - this.kept);
    }
    if (!copy && this.kept === 0) {
      this.viewOf = chunk;
      this.viewFrom = from;
      this.kept = end - from;
      return;
    }
    this.takeView();
    const piece = copy ? copyBytes(chunk, from, end) : new Uint8Array(chunk.buffer, chunk.byteOffset + from, end - from);
    this.parts.push(piece);
    this.kept += piece.length;
  }

  /** Drops all but the first RAW_LIMIT bytes; later bytes are only counted. */
  keepHeadOnly(): void {
    if (this.headOnly) return;
    const head = this.head(RAW_LIMIT);
    this.headOnly = true;
    this.parts = [head];
    this.kept = head.length;
  }

  /** The view kept as (piece, from) made a part; by constructor, as subarray() looks up a species constructor per call. */
  private takeView(): void {
    const v = this.viewOf;
    if (v === null) return;
    this.viewOf = null;
    this.parts.push(new Uint8Array(v.buffer, v.byteOffset + this.viewFrom, this.kept));
  }

  /** The kept byte at i (< the bytes kept), without joining the parts. */
  byteAt(i: number): number {
    if (this.viewOf !== null) return this.viewOf[this.viewFrom + i]!;
    for (const p of this.parts) {
      if (i < p.length) return p[i]!;
      i -= p.length;
    }
    return -1;
  }

  /** Bytes kept (all of the message unless headOnly). */
  get keptLength(): number {
    return this.kept;
  }

  /** Every kept byte, in one array. */
  bytes(): Uint8Array {
    this.takeView();
    if (this.parts.length === 1) return this.parts[0]!;
    if (this.parts.length === 0) return EMPTY;
    const all = new Uint8Array(this.kept);
    let at = 0;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }

  /** A copy of the first n kept bytes (never a view into a caller's chunk). */
  head(n: number): Uint8Array {
    const all = this.bytes();
    return copyBytes(all, 0, Math.min(n, all.length));
  }
}
