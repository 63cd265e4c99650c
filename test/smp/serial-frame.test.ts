// SMP's serial transport as Zephyr's "SMP Transport Specification" (UART/serial and console) and
// mcumgr's smp-console.md describe it: 0x06 0x09 then base64 of (total length, body, CRC16), one
// newline; continuation lines 0x04 0x14; at most 127 bytes a line; CRC16 poly 0x1021, initial 0.
import test from 'ava';
import { encodeMessage, decodeMessage, OP } from '../../gateway/src/smp/message.js';
import { crc16, encodePacket, rawBytesPerLine, SerialFrameReader, type SerialEvent } from '../../gateway/src/smp/serial-frame.js';


function read(...chunks: Array<Buffer | string>): SerialEvent[] {
  const events: SerialEvent[] = [];
  const reader = new SerialFrameReader((e) => events.push(e));
  for (const chunk of chunks) reader.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  return events;
}

const packets = (events: SerialEvent[]): Buffer[] => events.flatMap((e) => (e.kind === 'packet' ? [e.body] : []));

// An echo request by hand from the specifications: header op 2 (write), flags 0, data length 9,
// group 0 (OS), seq 0, id 0 (echo); body the CBOR map {"d": "hello"}: a1, 61 64 ("d"), 65 "hello".
const ECHO_BODY = Buffer.from([0x02, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0xa1, 0x61, 0x64, 0x65, ...Buffer.from('hello')]);
// Total length 17 + 2 = 0x0013; CRC16 0x256f computed apart with Python's binascii.crc_hqx(body, 0).
const ECHO_RAW = Buffer.concat([Buffer.from([0x00, 0x13]), ECHO_BODY, Buffer.from([0x25, 0x6f])]);
const ECHO_LINE = Buffer.concat([Buffer.from([0x06, 0x09]), Buffer.from(ECHO_RAW.toString('base64')), Buffer.from([0x0a])]);

test('the CRC is CRC-16/XMODEM: check value 0x31c3 over "123456789"', (t) => {
  t.is(crc16(Buffer.from('123456789')), 0x31c3);
  t.is(crc16(ECHO_BODY), 0x256f);
});

test('an echo request is framed byte for byte as the specification describes', (t) => {
  const message = encodeMessage({ op: OP.write, version: 0, flags: 0, group: 0, seq: 0, id: 0 }, { d: 'hello' });
  t.deepEqual(message, ECHO_BODY);
  const frame = encodePacket(message);
  t.deepEqual(frame, ECHO_LINE);
  t.is(frame.toString('latin1'), '\x06\x09ABMCAAAJAAAAAKFhZGVoZWxsbyVv\n');
});

test('the echo response built by hand decodes to its header and {"r": "hello"}', (t) => {
  // op 3 (write response), same group, seq and id; CRC 0xa3d3 from binascii.crc_hqx.
  const events = read('\x06\x09ABMDAAAJAAAAAKFhcmVoZWxsb6PT\n');
  const [body] = packets(events);
  t.truthy(body);
  const decoded = decodeMessage(body!);
  t.true(decoded.ok);
  if (!decoded.ok) return;
  t.deepEqual(decoded.message.header, { op: OP.writeResponse, version: 0, flags: 0, group: 0, seq: 0, id: 0 });
  t.deepEqual(decoded.message.body, { r: 'hello' });
});

test('a packet longer than one line goes as continuation lines of at most 127 bytes and comes back whole', (t) => {
  const body = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 7 + 3) & 0xff));
  const frame = encodePacket(body);
  const lines = frame.toString('latin1').split('\n').slice(0, -1);
  t.is(rawBytesPerLine(127), 93, '124 base64 characters carry 93 bytes');
  t.is(lines.length, Math.ceil((body.length + 4) / 93));
  t.true(lines[0]!.startsWith('\x06\x09'));
  for (const line of lines.slice(1)) t.true(line.startsWith('\x04\x14'));
  for (const line of lines) t.true(line.length + 1 <= 127, `line of ${line.length + 1} bytes`);
  // The first line's base64 begins with the total length: body + 2 CRC bytes, big endian.
  t.is(Buffer.from(lines[0]!.slice(2), 'base64').readUInt16BE(0), 702);
  t.deepEqual(packets(read(frame)), [body]);
});

test('bytes arriving one at a time are reassembled', (t) => {
  const body = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
  const frame = encodePacket(body);
  t.deepEqual(packets(read(...[...frame].map((b) => Buffer.from([b])))), [body]);
});

test('console lines around and between the frames of a packet are handed on, the packet intact', (t) => {
  const body = Buffer.from(Array.from({ length: 250 }, (_, i) => (255 - i) & 0xff));
  const [first, ...rest] = encodePacket(body).toString('latin1').split('\n').slice(0, -1);
  const stream = ['spot: booting 1.2.0', `${first}`, '["presence","create",{"item_code":"e2801170"}]', ...rest, 'spot: ready'].join('\n') + '\n';
  const events = read(stream);
  t.deepEqual(packets(events), [body]);
  t.deepEqual(
    events.flatMap((e) => (e.kind === 'console' ? [e.line.toString()] : [])),
    ['spot: booting 1.2.0', '["presence","create",{"item_code":"e2801170"}]', 'spot: ready'],
  );
});

test('a frame that starts after console text on the same line is still found', (t) => {
  const events = read(Buffer.concat([Buffer.from('log without newline: '), ECHO_LINE]));
  t.deepEqual(packets(events), [ECHO_BODY]);
  t.deepEqual(events[0], { kind: 'console', line: Buffer.from('log without newline: ') });
});

test('a packet whose CRC does not match is dropped and the next one is read', (t) => {
  const corrupt = Buffer.from(ECHO_LINE);
  corrupt[12] = corrupt[12] === 0x41 ? 0x42 : 0x41;
  const events = read(corrupt, ECHO_LINE);
  t.deepEqual(packets(events), [ECHO_BODY]);
  t.deepEqual(events.filter((e) => e.kind === 'dropped'), [{ kind: 'dropped', reason: 'a packet whose CRC does not match' }]);
});

test('a packet cut short by the next start, a stray continuation and non-base64 are dropped with a reason', (t) => {
  const long = encodePacket(Buffer.alloc(200, 0x55)).toString('latin1').split('\n');
  const events = read(`${long[0]}\n`, ECHO_LINE, `${long[1]}\n`, '\x06\x09not base64!\n', ECHO_LINE);
  t.deepEqual(packets(events), [ECHO_BODY, ECHO_BODY]);
  t.deepEqual(
    events.flatMap((e) => (e.kind === 'dropped' ? [e.reason] : [])),
    ['a packet cut short by the next one', 'a continuation frame without a first frame', 'a frame that is not base64'],
  );
});

test('CR LF line ends (a terminal in between) are accepted', (t) => {
  const crlf = Buffer.concat([ECHO_LINE.subarray(0, -1), Buffer.from('\r\n')]);
  t.deepEqual(packets(read(crlf)), [ECHO_BODY]);
});

test('a header whose length disagrees with the bytes, or a body that is not a CBOR map, is refused', (t) => {
  const short = Buffer.from(ECHO_BODY);
  short[3] = 10;
  t.like(decodeMessage(short), { ok: false });
  const notMap = Buffer.from([0x02, 0, 0, 1, 0, 0, 0, 0, 0x01]);
  t.deepEqual(decodeMessage(notMap), { ok: false, reason: 'an SMP body that is not a CBOR map' });
});

test('any packet comes back whole through any chunking and any console lines between its frames', async (t) => {
  const fc = await import('fast-check');
  const consoleLine = fc.string({ maxLength: 80 }).map((s) => s.replaceAll('\n', '.').replaceAll('\x04', '.').replaceAll('\x06', '.'));
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 8, maxLength: 1500 }),
      fc.array(consoleLine, { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 10 }),
      (body, noise, cuts) => {
        const lines = encodePacket(body).toString('latin1').split('\n').slice(0, -1);
        const mixed: string[] = [];
        lines.forEach((line, i) => {
          if (noise[i] !== undefined) mixed.push(noise[i]);
          mixed.push(line);
        });
        const stream = Buffer.from(`${mixed.join('\n')}\n`, 'latin1');
        const chunks: Buffer[] = [];
        for (let at = 0, k = 0; at < stream.length; k++) {
          const n = cuts[k % cuts.length]!;
          chunks.push(stream.subarray(at, at + n));
          at += n;
        }
        const events = read(...chunks);
        return packets(events).length === 1 && packets(events)[0]!.equals(Buffer.from(body)) && !events.some((e) => e.kind === 'dropped');
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});
