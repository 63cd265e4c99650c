// The forwarder's PUBACKs taken out of the broker's byte stream before mqtt.js parses it.
// At tens of thousands of events per second, mqtt.js spent ~10 % of the gateway's CPU parsing
// PUBACKs it then ignored (their packet ids are the forwarder's, not its own). The tap walks
// the MQTT framing (fixed header, remaining length) without decoding anything else: a PUBACK
// whose id the forwarder claims is consumed; every other byte reaches mqtt.js unchanged and in order.
import { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** Claims a PUBACK (packet id, MQTT 5 reason code or 0): true = it was the forwarder's. */
export type PubackClaim = (packetId: number, reasonCode: number) => boolean;

const PUBACK = 0x40;
/** A PUBACK with properties (reason string, user properties) is buffered up to this size. */
const MAX_PUBACK_BYTES = 65536;

export class PubackTap {
  /** The start of a fixed header cut by the chunk boundary (at most 4 bytes). */
  private carry: Buffer | null = null;
  /** A PUBACK being collected, and its header length. */
  private puback: Buffer | null = null;
  private pubackAt = 0;
  private pubackHeader = 0;
  /** Bytes still to pass through of the current packet (not a claimed PUBACK). */
  private passing = 0;
  /** The framing made no sense (a length over 4 bytes): everything passes, mqtt.js reports it. */
  private lost = false;
  claims = 0;

  /** Set once the forwarder has a channel; until then nothing is claimed. */
  claim: PubackClaim | null = null;

  /** The bytes of `input` mqtt.js must see, in order (possibly none). */
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
      if ((chunk[i]! & 0xf0) === PUBACK && this.claim && rest >= 2 && rest <= MAX_PUBACK_BYTES) {
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
    if (this.claim && this.claim(packetId, reasonCode)) {
      this.claims++;
      return;
    }
    out.push(p);
  }
}

/** A duplex over the broker socket that mqtt.js reads through the tap and writes straight through. */
export function tappedStream(socket: Duplex, tap: PubackTap): Duplex {
  const wrapper = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, done) {
      socket.write(chunk, done);
    },
    writev(chunks, done) {
      socket.cork();
      for (const c of chunks) socket.write(c.chunk);
      socket.uncork();
      done();
    },
    final(done) {
      socket.end(done);
    },
    destroy(err, done) {
      socket.destroy();
      done(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    let more = true;
    for (const piece of tap.filter(chunk)) more = wrapper.push(piece);
    if (!more) socket.pause();
  });
  socket.on('end', () => wrapper.push(null));
  socket.on('error', (err) => wrapper.destroy(err));
  socket.on('close', () => wrapper.destroy());
  return wrapper;
}

/** mqtt.connect with the client's socket wrapped by the tap (mqtt.js builds a new socket per connect). */
export function connectTapped(url: string, options: IClientOptions, tap?: PubackTap): MqttClient {
  if (!tap) return mqtt.connect(url, options);
  const client = mqtt.connect(url, { ...options, manualConnect: true });
  const internals = client as unknown as { streamBuilder: (c: MqttClient) => Duplex };
  const build = internals.streamBuilder;
  internals.streamBuilder = (c) => tappedStream(build(c), tap);
  client.connect();
  return client;
}
