// SMP's serial transport (docs/smp.md#serial-transport): packets as base64 lines that start with
// 0x06 0x09 (first) or 0x04 0x14 (continuation), mixed with the console's own lines on one UART.

export const FRAME_START = Buffer.from([0x06, 0x09]);
export const FRAME_CONTINUATION = Buffer.from([0x04, 0x14]);
/** The transport's line limit, marker and newline included. */
export const DEFAULT_LINE_LENGTH = 127;
/** A line longer than this without a newline is handed on as console text, to bound memory. */
export const MAX_BUFFERED_LINE = 4096;

const NEWLINE = 0x0a;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection, no final xor. */
export function crc16(bytes: Uint8Array, crc = 0): number {
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Raw bytes one line carries: the base64 room (line minus marker and newline) in whole 4-char groups. */
export function rawBytesPerLine(lineLength: number): number {
  return Math.floor((lineLength - 3) / 4) * 3;
}

/**
 * One SMP packet (header + CBOR) as the lines that carry it: total length (body + CRC, big endian),
 * body, CRC16 of the body (big endian), cut into pieces that each encode to at most the line length.
 */
export function encodePacket(body: Uint8Array, lineLength = DEFAULT_LINE_LENGTH): Buffer {
  if (body.length + 2 > 0xffff) throw new RangeError(`SMP packet of ${body.length} bytes does not fit a 16-bit length`);
  const perLine = rawBytesPerLine(lineLength);
  if (perLine < 3) throw new RangeError(`line length ${lineLength} leaves no room for data`);
  const raw = Buffer.alloc(body.length + 4);
  raw.writeUInt16BE(body.length + 2, 0);
  raw.set(body, 2);
  raw.writeUInt16BE(crc16(body), body.length + 2);
  const lines: Buffer[] = [];
  for (let at = 0; at < raw.length; at += perLine) {
    const marker = at === 0 ? FRAME_START : FRAME_CONTINUATION;
    lines.push(marker, Buffer.from(raw.subarray(at, at + perLine).toString('base64'), 'latin1'), Buffer.from([NEWLINE]));
  }
  return Buffer.concat(lines);
}

/** What the reader found in the byte stream. */
export type SerialEvent =
  | { kind: 'packet'; body: Buffer }
  | { kind: 'console'; line: Buffer }
  | { kind: 'dropped'; reason: string };

function findMarker(line: Buffer): { at: number; start: boolean } | null {
  for (let i = 0; i + 1 < line.length; i++) {
    if (line[i] === FRAME_START[0] && line[i + 1] === FRAME_START[1]) return { at: i, start: true };
    if (line[i] === FRAME_CONTINUATION[0] && line[i + 1] === FRAME_CONTINUATION[1]) return { at: i, start: false };
  }
  return null;
}

/**
 * Splits a UART byte stream into SMP packets and console lines. A frame may follow console text on
 * the same line (the text before the marker is console); a packet whose CRC or length is wrong, a
 * continuation without a start, or a start that cuts a packet short is reported as dropped.
 */
export class SerialFrameReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private packet: { total: number; parts: Buffer[]; have: number } | null = null;

  constructor(private readonly emit: (event: SerialEvent) => void) {}

  push(chunk: Uint8Array): void {
    let from = 0;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (;;) {
      const newline = bytes.indexOf(NEWLINE, from);
      if (newline < 0) break;
      this.pending.push(bytes.subarray(from, newline));
      this.line(Buffer.concat(this.pending));
      this.pending = [];
      this.pendingLength = 0;
      from = newline + 1;
    }
    if (from < bytes.length) {
      this.pending.push(Buffer.from(bytes.subarray(from)));
      this.pendingLength += bytes.length - from;
      if (this.pendingLength > MAX_BUFFERED_LINE) {
        this.emit({ kind: 'console', line: Buffer.concat(this.pending) });
        this.pending = [];
        this.pendingLength = 0;
      }
    }
  }

  private line(line: Buffer): void {
    const marker = findMarker(line);
    if (!marker) {
      this.emit({ kind: 'console', line });
      return;
    }
    if (marker.at > 0) this.emit({ kind: 'console', line: line.subarray(0, marker.at) });
    let text = line.subarray(marker.at + 2).toString('latin1');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.length % 4 !== 0 || !BASE64.test(text)) {
      this.abandon('a frame that is not base64');
      return;
    }
    const raw = Buffer.from(text, 'base64');
    if (marker.start) {
      if (this.packet) this.abandon('a packet cut short by the next one');
      if (raw.length < 2) {
        this.emit({ kind: 'dropped', reason: 'a first frame without its length' });
        return;
      }
      this.packet = { total: raw.readUInt16BE(0), parts: [raw.subarray(2)], have: raw.length - 2 };
    } else {
      if (!this.packet) {
        this.emit({ kind: 'dropped', reason: 'a continuation frame without a first frame' });
        return;
      }
      this.packet.parts.push(raw);
      this.packet.have += raw.length;
    }
    if (this.packet.have >= this.packet.total) this.complete();
  }

  private complete(): void {
    const { total, parts, have } = this.packet!;
    this.packet = null;
    if (have > total) {
      this.emit({ kind: 'dropped', reason: `a packet of ${have} bytes where its length says ${total}` });
      return;
    }
    const data = Buffer.concat(parts);
    if (total < 2 || crc16(data) !== 0) {
      this.emit({ kind: 'dropped', reason: 'a packet whose CRC does not match' });
      return;
    }
    this.emit({ kind: 'packet', body: data.subarray(0, total - 2) });
  }

  private abandon(reason: string): void {
    this.packet = null;
    this.emit({ kind: 'dropped', reason });
  }
}
