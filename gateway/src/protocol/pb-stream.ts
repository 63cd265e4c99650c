// PB spot-protocol streams: varint-length-prefixed Frames with the two send-layer tricks.
import { newSendState, writeFrame, type NumberedEvent, type SendState } from './frame-writer.js';
import { newFrameRecord, newReceiveState, readFrameInto, type FrameRecord, type ReceiveState } from './frame-reader.js';
import { RAW_LIMIT } from './message-buffer.js';
import { frameFailure } from './convert.js';
import { Writer, copyBytes } from './wire.js';
import { eventItem, newEvent } from './decoded-item.js';
import type { DecodedItem, StreamDecoder, StreamEncoder } from './types.js';
import { concatBytes } from './bytes.js';
import { RejectRun } from './reject-run.js';
import { frameMayHoldEvent } from './frame-shape.js';
import { failure } from './frame-failure.js';

export { encodeFrame, decodeFrame, type DecodedFrame, type FrameDecoding } from './convert.js';

/** A zero length prefix: the cheapest garbage (a body of zero bytes is one such frame per byte). */
const EMPTY_FRAME_REASON = 'malformed frame: frame holds no event';
const NO_REASON = (): string => '';

export interface PbDecoderOptions {
  /** Longest accepted frame in bytes (without its prefix); longer ones are skipped and rejected. */
  maxMessageBytes?: number;
}

class PbStreamDecoder implements StreamDecoder {
  private readonly maxBytes: number;
  private readonly state: ReceiveState = newReceiveState();
  private readonly frame: FrameRecord = newFrameRecord();
  /** Bytes of an incomplete frame (prefix included) carried to the next push. */
  private pendingParts: Uint8Array[] = [];
  private pendingLength = 0;
  /** Prefix + frame bytes of the pending frame, once its prefix is complete (else 0). */
  private pendingNeed = 0;
  /** Stream offset of the next byte to read (the first pending byte when there are some). */
  private offset = 0;
  private index = 0;
  // An over-limit frame being skipped.
  private skipLeft = 0;
  private skipStart = 0;
  private skipLength = 0;
  private skipHead: number[] = [];
  /** After a length prefix that is not a varint nothing can be framed: the rest is one reject. */
  private broken = false;
  private brokenStart = 0;
  private brokenHead: number[] = [];
  /** Malformed frames since the last event: reported as one reject before the next event or at the end. */
  private readonly run = new RejectRun();
  private out: DecodedItem[] = [];

  constructor(options: PbDecoderOptions) {
    this.maxBytes = options.maxMessageBytes ?? 65536;
  }

  push(chunk: Uint8Array): DecodedItem[] {
    this.out = [];
    let rest = chunk;
    if (this.pendingLength > 0) {
      if (this.pendingNeed > 0) {
        // The frame's length is known: collect pieces and join them once, when it is complete.
        const take = Math.min(this.pendingNeed - this.pendingLength, chunk.length);
        this.pendingParts.push(copyBytes(chunk, 0, take));
        this.pendingLength += take;
        if (this.pendingLength < this.pendingNeed) return this.out;
        rest = chunk.subarray(take);
        this.scan(this.takePending());
      } else {
        // Only part of a length prefix (under 5 bytes) is pending: join it with this piece.
        rest = concatBytes([this.takePending(), chunk]);
      }
    }
    const pos = this.scan(rest);
    if (pos < rest.length) {
      this.pendingParts = [copyBytes(rest, pos, rest.length)];
      this.pendingLength = rest.length - pos;
    }
    return this.out;
  }

  private takePending(): Uint8Array {
    const joined = concatBytes(this.pendingParts);
    this.pendingParts = [];
    this.pendingLength = 0;
    this.pendingNeed = 0;
    return joined;
  }

  end(): DecodedItem[] {
    this.out = [];
    if (this.broken) {
      this.rejectBroken();
    } else if (this.skipLeft > 0) {
      this.reject(this.skipStart, this.skipLength - this.skipLeft, Uint8Array.from(this.skipHead), `truncated: the stream ended inside a frame over the size limit (${this.maxBytes} bytes)`);
      this.skipLeft = 0;
    } else if (this.pendingLength > 0) {
      const length = this.pendingLength;
      const pending = this.takePending();
      this.reject(this.offset, length, copyBytes(pending, 0, Math.min(length, RAW_LIMIT)), 'truncated: the stream ended inside a frame');
    }
    this.run.flush(this.out);
    return this.out;
  }

  /** Decodes the frames complete in buf; returns where the incomplete rest begins. */
  private scan(buf: Uint8Array): number {
    let pos = 0;
    const n = buf.length;
    while (pos < n) {
      if (this.broken) {
        for (let i = pos; i < n && this.brokenHead.length < RAW_LIMIT; i++) this.brokenHead.push(buf[i]!);
        this.offset += n - pos;
        return n;
      }
      if (this.skipLeft > 0) {
        const take = Math.min(this.skipLeft, n - pos);
        for (let i = pos; i < pos + take && this.skipHead.length < RAW_LIMIT; i++) this.skipHead.push(buf[i]!);
        pos += take;
        this.offset += take;
        this.skipLeft -= take;
        if (this.skipLeft === 0) {
          this.reject(this.skipStart, this.skipLength, Uint8Array.from(this.skipHead), `over the size limit (${this.maxBytes} bytes)`);
        }
        continue;
      }
      // Length prefix: a varint of at most 5 bytes (frames are far below 2^35 bytes).
      let len = 0;
      let shift = 0;
      let p = pos;
      let done = false;
      while (p < n && shift < 35) {
        const b = buf[p++]!;
        len += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (b < 0x80) {
          done = true;
          break;
        }
      }
      if (!done) {
        if (shift >= 35) {
          this.broken = true;
          this.brokenStart = this.offset;
          continue;
        }
        return pos;
      }
      const frameStart = p;
      const frameEnd = p + len;
      if (len > this.maxBytes) {
        this.skipStart = this.offset;
        this.skipLength = frameEnd - pos;
        this.skipLeft = this.skipLength;
        this.skipHead = [];
        continue;
      }
      if (frameEnd > n) {
        this.pendingNeed = frameEnd - pos;
        return pos;
      }
      if (len === 0) {
        // Judged without reading: no frame that holds nothing is an event.
        this.run.add(this.offset, frameEnd - pos, this.index++, EMPTY_FRAME_REASON);
        this.run.addRaw(buf, pos, frameEnd);
        this.offset += frameEnd - pos;
        pos = frameEnd;
        continue;
      }
      this.decodeFrame(buf, pos, frameStart, frameEnd);
      this.offset += frameEnd - pos;
      pos = frameEnd;
    }
    return pos;
  }

  private decodeFrame(buf: Uint8Array, prefixStart: number, start: number, end: number): void {
    if (this.run.messages > 0 && !frameMayHoldEvent(buf, start, end)) {
      // More garbage in a run: judged without reading (and throwing) when its shape rules it out.
      this.malformed(buf, prefixStart, end, NO_REASON);
      return;
    }
    try {
      const frame = this.frame;
      if (!readFrameInto(buf, start, end, this.state, frame)) {
        this.malformed(buf, prefixStart, end, () => `malformed frame: ${failure()}`);
        return;
      }
      const event = newEvent(frame.resource, frame.action, frame.data, this.offset, this.index++);
      if (frame.boot !== undefined) event.boot = frame.boot;
      if (frame.seq !== undefined) event.seq = frame.seq;
      event.pb = frame.pb!;
      this.run.flush(this.out);
      this.out.push(eventItem(event));
    } catch (err) {
      this.malformed(buf, prefixStart, end, () => frameFailure(err));
    }
  }

  /** One more malformed frame for the run; only the run's first reason is reported, so only that one is worked out. */
  private malformed(buf: Uint8Array, prefixStart: number, end: number, reason: () => string): void {
    this.run.add(this.offset, end - prefixStart, this.index++, this.run.messages === 0 ? reason() : '');
    this.run.addRaw(buf, prefixStart, end);
  }

  private rejectBroken(): void {
    const reason = 'invalid length prefix: the rest of the stream cannot be framed';
    this.reject(this.brokenStart, this.offset - this.brokenStart, Uint8Array.from(this.brokenHead), reason);
    this.broken = false;
  }

  private reject(offset: number, length: number, raw: Uint8Array, reason: string): void {
    this.run.add(offset, length, this.index++, reason);
    this.run.addRaw(raw, 0, raw.length);
  }
}

/** A decoder for one PB-encoded stream; the send-layer tricks are undone per stream. */
export function createPbDecoder(options: PbDecoderOptions = {}): StreamDecoder {
  return new PbStreamDecoder(options);
}

class PbStreamEncoder implements StreamEncoder {
  private readonly state: SendState = newSendState();
  private readonly frame = new Writer(1024);
  private readonly out = new Writer(1024);

  encode(event: NumberedEvent): Uint8Array {
    const frame = this.frame.reset();
    writeFrame(frame, event, this.state);
    const out = this.out.reset();
    out.lengthDelimited(frame.buf.subarray(0, frame.pos));
    return out.finish();
  }
}

/** An encoder for one PB stream: length prefixes, timestamp offsets, item references. */
export function createPbEncoder(): StreamEncoder {
  return new PbStreamEncoder();
}
