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

  reset(start: number): void {
    this.start = start;
    this.length = 0;
    this.headOnly = false;
    // Emptied, not replaced: a stream of tiny messages would allocate an array per message.
    this.parts.length = 0;
    this.kept = 0;
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
    // The view by constructor, not subarray(): subarray() looks up a species constructor per call.
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

  /** Every kept byte, in one array. */
  bytes(): Uint8Array {
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
