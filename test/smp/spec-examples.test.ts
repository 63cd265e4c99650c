// The gateway's SMP client against the exchanges Zephyr's SMP specification describes (docs/smp.md,
// "Conformance"): a scripted device takes the client's requests apart with this file's own framing
// code (smp_transport.rst, "UART/serial and console": markers, base64, length, CRC-16) and cborg,
// checks them against the request the specification gives (header fields of smp_protocol.rst,
// "Frame: The envelope"; the CBOR map of the group document), and answers with the response the
// specification gives, written here byte by byte (header and CBOR as hex). The client must decode
// each, including the optional keys left out and the error forms.
import test from 'ava';
import { decode } from 'cborg';
import { SmpClient } from '../../gateway/src/smp/client.js';
import { BOOT_MODE, echo, imageState, mcumgrParams, osInfo, reset, setImageState, uploadChunk } from '../../gateway/src/smp/commands.js';
import { portPair, type MemoryPort } from '../helpers/port-pair.js';

/** "CRC Details": polynomial 0x1021, initial value 0, over the raw body only. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** A packet as frames: 06 09 then 04 14 markers, base64 of at most 93 raw bytes each, a newline. */
function frames(body: Buffer): Buffer {
  const crc = crc16(body);
  const raw = Buffer.concat([Buffer.from([(body.length + 2) >> 8, (body.length + 2) & 0xff]), body, Buffer.from([crc >> 8, crc & 0xff])]);
  const lines: Buffer[] = [];
  for (let at = 0; at < raw.length; at += 93) {
    lines.push(Buffer.from(at === 0 ? [0x06, 0x09] : [0x04, 0x14]), Buffer.from(raw.subarray(at, at + 93).toString('base64')), Buffer.from('\n'));
  }
  return Buffer.concat(lines);
}

interface Request {
  version: number;
  op: number;
  flags: number;
  group: number;
  seq: number;
  id: number;
  body: Record<string, unknown>;
}

/** The device: reads whole request packets and answers each with `answer(request)` (hex CBOR). */
function device(port: MemoryPort, answer: (request: Request) => string): Request[] {
  const seen: Request[] = [];
  let text = '';
  let packet: Buffer | null = null;
  port.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      const line = Buffer.from(text.slice(0, nl), 'latin1');
      text = text.slice(nl + 1);
      const first = line[0] === 0x06 && line[1] === 0x09;
      if (!first && !(line[0] === 0x04 && line[1] === 0x14)) throw new Error(`not an SMP frame: ${line.toString('hex')}`);
      const raw = Buffer.from(line.subarray(2).toString('latin1'), 'base64');
      packet = first ? raw : Buffer.concat([packet ?? Buffer.alloc(0), raw]);
      const total = packet.readUInt16BE(0);
      if (packet.length < total + 2) continue;
      const body = packet.subarray(2, packet.length - 2);
      if (crc16(body) !== packet.readUInt16BE(packet.length - 2)) throw new Error('request CRC');
      const request: Request = {
        version: (body[0]! >> 3) & 3,
        op: body[0]! & 7,
        flags: body[1]!,
        group: body.readUInt16BE(4),
        seq: body[6]!,
        id: body[7]!,
        body: body.readUInt16BE(2) === 0 ? {} : (decode(body.subarray(8), { useMaps: false }) as Record<string, unknown>),
      };
      if (body.readUInt16BE(2) !== body.length - 8) throw new Error('request Data Length');
      if (body[0]! >> 5 !== 0) throw new Error('request Res bits');
      seen.push(request);
      const cbor = Buffer.from(answer(request).replace(/\s+/g, ''), 'hex');
      // The response header: the request's version, OP + 1, no flags, its Data Length, group, sequence, command.
      const header = Buffer.from([(request.version << 3) | (request.op + 1), 0, cbor.length >> 8, cbor.length & 0xff, request.group >> 8, request.group & 0xff, request.seq, request.id]);
      port.write(frames(Buffer.concat([header, cbor])));
    }
  });
  return seen;
}

function bench(answer: (request: Request) => string): { client: SmpClient; seen: Request[] } {
  const { gateway, device: end } = portPair();
  const seen = device(end, answer);
  return { client: new SmpClient(gateway, { timeoutMs: 500, tries: 1 }), seen };
}

/** CBOR text string head + bytes, for the hex below. */
function text(s: string): string {
  const b = Buffer.from(s);
  if (b.length >= 24) throw new Error('short strings only');
  return (0x60 + b.length).toString(16) + b.toString('hex');
}

const HASH_0 = '11'.repeat(32);
const HASH_1 = '22'.repeat(32);

test('smp_group_0 "Echo": request {"d": (str)} with OP 2, group 0, command 0; response {"r": (str)}', async (t) => {
  const { client, seen } = bench(() => `a1 ${text('r')} ${text('hello')}`);
  t.deepEqual(await echo(client, 'hello'), { ok: true, value: 'hello' });
  t.like(seen[0], { op: 2, group: 0, id: 0, flags: 0, body: { d: 'hello' } });
});

test('smp_group_0 "MCUmgr Parameters": request an empty map, OP 0, command 6; response {"buf_size", "buf_count"} (uint)', async (t) => {
  const { client, seen } = bench(() => `a2 ${text('buf_size')} 19 0800 ${text('buf_count')} 04`);
  t.deepEqual(await mcumgrParams(client), { ok: true, value: { bufSize: 2048, bufCount: 4 } });
  t.like(seen[0], { op: 0, group: 0, id: 6, body: {} });
});

test('smp_group_0 "OS/Application Info": request {"format": (str)}, OP 0, command 7; response {"output": (str)}', async (t) => {
  const { client, seen } = bench(() => `a1 ${text('output')} ${text('Zephyr 3.7.0')}`);
  t.deepEqual(await osInfo(client, 'sv'), { ok: true, value: 'Zephyr 3.7.0' });
  t.like(seen[0], { op: 0, group: 0, id: 7, body: { format: 'sv' } });
});

test('smp_group_0 "System reset": request an empty map (or "boot_mode"), OP 2, command 5; response an empty map', async (t) => {
  const { client, seen } = bench(() => 'a0');
  t.deepEqual(await reset(client), { ok: true, value: { answered: true } });
  t.deepEqual(await reset(client, false, BOOT_MODE.bootloader), { ok: true, value: { answered: true } });
  t.like(seen[0], { op: 2, group: 0, id: 5, body: {} });
  t.deepEqual(seen[1]?.body, { boot_mode: 1 });
});

test('smp_group_1 "Get state of images": the optional "image", flags left out when false, "splitStatus" and a missing "hash" decode', async (t) => {
  const { client, seen } = bench(
    () => `a2 ${text('images')} 82
      a5 ${text('slot')} 00 ${text('version')} ${text('1.2.3')} ${text('hash')} 5820 ${HASH_0} ${text('active')} f5 ${text('confirmed')} f5
      a5 ${text('image')} 00 ${text('slot')} 01 ${text('version')} ${text('1.3.0')} ${text('hash')} 5820 ${HASH_1} ${text('pending')} f5
      ${text('splitStatus')} 00`,
  );
  const state = await imageState(client);
  t.true(state.ok);
  if (!state.ok) return;
  t.deepEqual(state.value, [
    { image: 0, slot: 0, version: '1.2.3', hash: Buffer.from(HASH_0, 'hex'), bootable: false, pending: false, confirmed: true, active: true, permanent: false },
    { image: 0, slot: 1, version: '1.3.0', hash: Buffer.from(HASH_1, 'hex'), bootable: false, pending: true, confirmed: false, active: false, permanent: false },
  ]);
  t.like(seen[0], { op: 0, group: 1, id: 0, body: {} });

  // "hash" is optional for MCUboot's serial recovery without CONFIG_BOOT_SERIAL_IMG_GRP_HASH.
  const recovery = bench(() => `a1 ${text('images')} 81 a2 ${text('slot')} 00 ${text('version')} ${text('0.9.1')}`);
  const listed = await imageState(recovery.client);
  t.true(listed.ok && listed.value[0]?.hash === null && listed.value[0].version === '0.9.1', JSON.stringify(listed));
});

test('smp_group_1 "Set state of image": request {"hash": (byte str), "confirm": (bool)}, OP 2; the response has the state read\'s form', async (t) => {
  const { client, seen } = bench(
    () => `a1 ${text('images')} 81 a6 ${text('image')} 00 ${text('slot')} 01 ${text('version')} ${text('1.3.0')} ${text('hash')} 5820 ${HASH_1} ${text('pending')} f5 ${text('permanent')} f4`,
  );
  const set = await setImageState(client, { hash: Buffer.from(HASH_1, 'hex'), confirm: false });
  t.true(set.ok && set.value[0]?.pending === true && set.value[0].permanent === false, JSON.stringify(set));
  t.like(seen[0], { op: 2, group: 1, id: 0, body: { confirm: false } });
  t.deepEqual(Buffer.from(seen[0]?.body.hash as Uint8Array), Buffer.from(HASH_1, 'hex'));
});

test('smp_group_1 "Image upload": the first request carries "image", "len", "off", "sha", "data"; responses {"off"} and, last, {"off", "match"}', async (t) => {
  const data = Buffer.alloc(100, 0xab);
  const { client, seen } = bench((r) => (r.body.off === 0 ? `a1 ${text('off')} 18 64` : `a2 ${text('off')} 18 c8 ${text('match')} f5`));
  const sha = Buffer.alloc(32, 0x5a);
  t.deepEqual(await uploadChunk(client, { image: 0, len: 200, off: 0, sha, data }), { ok: true, value: { off: 100 } });
  t.deepEqual(await uploadChunk(client, { off: 100, data }), { ok: true, value: { off: 200, match: true } });
  t.like(seen[0], { op: 2, group: 1, id: 1, body: { image: 0, len: 200, off: 0 } });
  t.deepEqual(Object.keys(seen[1]?.body ?? {}).sort(), ['data', 'off']);
});

test('errors: version 2 {"err": {"group", "rc"}}, the minimal response {"rc"} (with "rsn"), each a device-error with its codes', async (t) => {
  const v2 = bench(() => `a1 ${text('err')} a2 ${text('group')} 01 ${text('rc')} 18 1e`);
  t.like(await uploadChunk(v2.client, { image: 0, len: 1 << 20, off: 0, data: Buffer.alloc(1) }), { ok: false, reason: 'device-error', rc: 30, group: 1 });
  const v1 = bench(() => `a2 ${text('rc')} 08 ${text('rsn')} ${text('not here')}`);
  t.like(await echo(v1.client, 'x'), { ok: false, reason: 'device-error', rc: 8, group: null });
});
