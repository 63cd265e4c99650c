// PUBACKs taken out of the broker's byte stream before mqtt-packet's parser sees it. At tens of
// thousands of events per second a general parser costs a packet object and a buffer list per
// PUBACK; the tap walks the MQTT framing (fixed header, remaining length) without decoding
// anything else: a PUBACK whose id is claimed is consumed; every other byte reaches the parser
// unchanged and in order.

/** Claims a PUBACK (packet id, MQTT 5 reason code or 0): true = it was awaited. */
export type PubackClaim = (packetId: number, reasonCode: number) => boolean;

const PUBACK = 0x40;
/** A PUBACK with properties (reason string, user properties) is buffered up to this size. */
const MAX_PUBACK_BYTES = 65536;

export class FrameTap {
  /** The start of a fixed header cut by the chunk boundary (at most 4 bytes). */
  private carry: Buffer | null = null;
  /** A PUBACK being collected, and its header length. */
  private puback: Buffer | null = null;
  private pubackAt = 0;
  private pubackHeader = 0;
  /** Bytes still to pass through of the current packet (not a claimed PUBACK). */
  private passing = 0;
  /** The framing made no sense (a length over 4 bytes): everything passes, the parser reports it. */
  private lost = false;
  claims = 0;

  constructor(readonly claim: PubackClaim) {}

  /** The bytes of `input` the parser must see, in order (possibly none). */
  filter(input: Buffer): Buffer[] {
    if (this.lost) return [input];
    const chunk = this.carry ? Buffer.concat([this.carry, input]) : input;
    this.carry = null;
    const out: Buffer[] = [];
    const n = chunk.length;
    let passFrom = -1;
    let i = 0;
    const flush = (end: number): void => {
      if (passFrom >= 0 && end > passFrom) out.push(chunk.subarray(passFrom, end));
      passFrom = -1;
    };
    while (i < n) {
      if (this.passing > 0) {
        const take = Math.min(this.passing, n - i);
        if (passFrom < 0) passFrom = i;
        this.passing -= take;
        i += take;
        continue;
      }
      if (this.puback) {
        const take = Math.min(this.puback.length - this.pubackAt, n - i);
        chunk.copy(this.puback, this.pubackAt, i, i + take);
        this.pubackAt += take;
        i += take;
        if (this.pubackAt === this.puback.length) this.finishPuback(out);
        continue;
      }
      // Fixed header at i: the type byte, then the remaining length (1-4 bytes, 7 bits each).
      let rest = 0;
      let scale = 1;
      let k = i + 1;
      let complete = false;
      while (k < n && k < i + 5) {
        const b = chunk[k++]!;
        rest += (b & 0x7f) * scale;
        scale *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (k - i >= 5) {
          this.lost = true;
          if (passFrom < 0) passFrom = i;
          break;
        }
        flush(i);
        this.carry = Buffer.from(chunk.subarray(i));
        return out;
      }
      if ((chunk[i]! & 0xf0) === PUBACK && rest >= 2 && rest <= MAX_PUBACK_BYTES) {
        flush(i);
        this.pubackHeader = k - i;
        this.puback = Buffer.allocUnsafe(this.pubackHeader + rest);
        chunk.copy(this.puback, 0, i, k);
        this.pubackAt = this.pubackHeader;
        i = k;
        continue;
      }
      if (passFrom < 0) passFrom = i;
      i = k;
      this.passing = rest;
    }
    flush(n);
    return out;
  }

  private finishPuback(out: Buffer[]): void {
    const p = this.puback!;
    this.puback = null;
    const at = this.pubackHeader;
    const packetId = p.readUInt16BE(at);
    const reasonCode = p.length > at + 2 ? p[at + 2]! : 0;
    if (this.claim(packetId, reasonCode)) {
      this.claims++;
      return;
    }
    out.push(p);
  }
}
