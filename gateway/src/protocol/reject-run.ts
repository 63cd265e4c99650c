// Malformed messages in a row reported as one reject: a garbage body costs one record, not one per byte.
import { RAW_LIMIT } from './message-buffer.js';
import type { DecodedItem } from './types.js';

/**
 * The run of malformed messages since the last event. Decoders add each malformed message and
 * flush the run before the next event and at the end of the stream, so how the stream was cut
 * into pieces never changes what is reported.
 */
export class RejectRun {
  /** Malformed messages in the run (0: no run open). */
  messages = 0;
  private offset = 0;
  private end = 0;
  private index = 0;
  private reason = '';
  private readonly sample = new Uint8Array(RAW_LIMIT);
  private sampled = 0;

  /** Room left in the raw sample: callers copy bytes for it only while this is positive. */
  get room(): number {
    return RAW_LIMIT - this.sampled;
  }

  /** One more malformed message; `reason` is used only when it opens the run. */
  add(offset: number, length: number, index: number, reason: string): void {
    if (this.messages === 0) {
      this.offset = offset;
      this.index = index;
      this.reason = reason;
      this.sampled = 0;
    }
    this.messages++;
    this.end = offset + length;
  }

  /** Appends src[from..to) to the raw sample, as far as it has room. */
  addRaw(src: Uint8Array, from: number, to: number): void {
    const n = Math.min(to - from, RAW_LIMIT - this.sampled);
    if (n <= 0) return;
    const sample = this.sample;
    for (let i = 0; i < n; i++) sample[this.sampled + i] = src[from + i]!;
    this.sampled += n;
  }

  /** The run as one rejected message pushed to `out`; nothing when no run is open. */
  flush(out: DecodedItem[]): void {
    const messages = this.messages;
    if (messages === 0) return;
    this.messages = 0;
    const reason = messages === 1 ? this.reason : `${this.reason} (first of ${messages} malformed messages in a row)`;
    const raw = this.sample.slice(0, this.sampled);
    out.push({ kind: 'rejected', rejected: { offset: this.offset, index: this.index, messages, raw, length: this.end - this.offset, reason } });
  }
}
