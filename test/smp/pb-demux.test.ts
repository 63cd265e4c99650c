// SMP frames between the frames of a PB spot-protocol stream on one UART: PB bytes may hold
// newlines and marker-like bytes anywhere, and still every PB byte is handed on in order and
// every SMP packet comes out whole.
import test from 'ava';
import { PbStreamDemux, type DemuxEvent } from '../../gateway/src/smp/pb-demux.js';
import { encodePacket } from '../../gateway/src/smp/serial-frame.js';
import { SmpClient } from '../../gateway/src/smp/client.js';
import { echo } from '../../gateway/src/smp/commands.js';
import { portPair } from '../helpers/port-pair.js';
import { freshFlash, SmpServerStandIn } from '../helpers/smp-server.js';
import { signedImage } from './images.js';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  return [...out, n];
}

const pbFrame = (body: number[]): Buffer => Buffer.from([...varint(body.length), ...body]);

function run(stream: Buffer, cut: number): DemuxEvent[] {
  const events: DemuxEvent[] = [];
  const demux = new PbStreamDemux((e) => events.push(e));
  for (let at = 0; at < stream.length; at += cut) demux.push(stream.subarray(at, at + cut));
  return events;
}

test('PB frames holding newlines and marker bytes pass through whole; the SMP packets between them come out', async (t) => {
  const fc = await import('fast-check');
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.uint8Array({ minLength: 8, maxLength: 400 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 1, max: 97 }),
      (pbBodies, smpBodies, cut) => {
        // A PB frame opens with a field tag (here 0x0a: field 1, length-delimited); after it any
        // bytes, spiced with newlines and SMP markers, which inside a frame mean nothing.
        const frames = pbBodies.map((b, i) => pbFrame(b.length || i % 2 ? [0x0a, ...(i % 2 ? [0x0a, 0x06, 0x09, 0x04, 0x14] : []), ...b] : []));
        const parts: Buffer[] = [];
        frames.forEach((f, i) => {
          parts.push(f);
          if (smpBodies[i]) parts.push(encodePacket(smpBodies[i]));
        });
        const events = run(Buffer.concat(parts), cut);
        const stream = Buffer.concat(events.flatMap((e) => (e.kind === 'stream' ? [e.bytes] : [])));
        const packets = events.flatMap((e) => (e.kind === 'packet' ? [e.body] : []));
        return (
          stream.equals(Buffer.concat(frames)) &&
          packets.length === Math.min(smpBodies.length, frames.length) &&
          packets.every((p, i) => p.equals(Buffer.from(smpBodies[i]!))) &&
          !events.some((e) => e.kind === 'dropped')
        );
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('a length prefix that cannot be one leaves the stream unframed: SMP is then found at line starts', (t) => {
  const body = Buffer.from([0x02, 0, 0, 1, 0, 0, 0, 0, 0xa0]);
  const events = run(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a]), encodePacket(body)]), 5);
  t.like(events[0], { kind: 'dropped' });
  t.deepEqual(events.flatMap((e) => (e.kind === 'packet' ? [e.body] : [])), [body]);
});

test('the client in pb mode answers SMP on a UART whose PB stream holds newlines, and hands the PB bytes on', async (t) => {
  const { gateway, device } = portPair();
  new SmpServerStandIn(device, freshFlash(signedImage('1.0.0')));
  const seen: Buffer[] = [];
  const client = new SmpClient(gateway, { stream: 'pb', timeoutMs: 300, onStream: (b) => seen.push(b) });
  const frame = pbFrame([0x0a, 0x03, 0x0a, 0x06, 0x09, 0x12, 0x01, 0x0a]);
  device.write(frame);
  t.deepEqual(await echo(client, 'between frames'), { ok: true, value: 'between frames' });
  device.write(frame);
  t.deepEqual(await echo(client, 'again'), { ok: true, value: 'again' });
  t.deepEqual(Buffer.concat(seen), Buffer.concat([frame, frame]));
});
