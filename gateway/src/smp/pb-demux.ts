// SMP frames on a UART that carries the spot protocol's PB stream (docs/smp.md#one-uart-two-streams).
// PB bytes hold newlines and any other value, so lines cannot tell the two apart; frame boundaries
// can: at a boundary, 06 09 or 04 14 can only be an SMP frame, since as a PB frame they would be a
// 6-byte frame opening with a 64-bit field (9 bytes at least) or a 4-byte one opening with an
// end-group tag, neither of which exists. The SMP line runs to its newline; then the next boundary.
import { SerialFrameReader, type SerialEvent } from './serial-frame.js';

export type DemuxEvent = SerialEvent | { kind: 'stream'; bytes: Buffer };

const MAX_PREFIX = 5;

function isMarkerStart(a: number, b: number): boolean {
  return (a === 0x06 && b === 0x09) || (a === 0x04 && b === 0x14);
}

export class PbStreamDemux {
  private readonly smp: SerialFrameReader;
  /** Bytes at a boundary not yet enough to decide (a marker's first byte, part of a prefix). */
  private held = Buffer.alloc(0);
  /** PB bytes still to pass through for the frame under way. */
  private frameLeft = 0;
  private inSmpLine = false;
  /** After a length prefix that cannot be one, the stream has no boundaries left: lines decide. */
  private unframed = false;

  constructor(private readonly emit: (event: DemuxEvent) => void) {
    this.smp = new SerialFrameReader(emit);
  }

  push(chunk: Uint8Array): void {
    if (this.unframed) {
      this.smp.push(chunk);
      return;
    }
    let bytes = Buffer.concat([this.held, Buffer.from(chunk)]);
    this.held = Buffer.alloc(0);
    while (bytes.length > 0) {
      if (this.frameLeft > 0) {
        const n = Math.min(this.frameLeft, bytes.length);
        this.emit({ kind: 'stream', bytes: bytes.subarray(0, n) });
        this.frameLeft -= n;
        bytes = bytes.subarray(n);
        continue;
      }
      if (this.inSmpLine) {
        const newline = bytes.indexOf(0x0a);
        const end = newline < 0 ? bytes.length : newline + 1;
        this.smp.push(bytes.subarray(0, end));
        this.inSmpLine = newline < 0;
        bytes = bytes.subarray(end);
        continue;
      }
      // One byte decides unless it may begin a marker (a 6- or 4-byte PB frame's prefix waits for its next byte anyway).
      if (bytes.length < 2 && (bytes[0] === 0x06 || bytes[0] === 0x04)) break;
      if (bytes.length >= 2 && isMarkerStart(bytes[0]!, bytes[1]!)) {
        this.inSmpLine = true;
        continue;
      }
      const prefix = readVarint(bytes);
      if (prefix === 'short') break;
      if (prefix === 'invalid') {
        this.unframed = true;
        this.emit({ kind: 'dropped', reason: 'a PB length prefix over 5 bytes: the stream has no frame boundaries left; SMP is looked for at line starts from here' });
        this.smp.push(bytes);
        return;
      }
      this.emit({ kind: 'stream', bytes: bytes.subarray(0, prefix.size) });
      this.frameLeft = prefix.length;
      bytes = bytes.subarray(prefix.size);
    }
    this.held = Buffer.from(bytes);
  }
}

function readVarint(bytes: Buffer): { length: number; size: number } | 'short' | 'invalid' {
  let length = 0;
  for (let i = 0; i < MAX_PREFIX; i++) {
    if (i >= bytes.length) return 'short';
    const b = bytes[i]!;
    length += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { length, size: i + 1 };
  }
  return 'invalid';
}
