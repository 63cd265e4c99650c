// The ARM Linux spot under qemu-arm with a state dir: state.bin is the documented record (magic, format
// version 3, payload length, CRC-32 over header and payload); a state.bin damaged on disk, or written by
// older firmware as a raw struct, boots with factory defaults, a new boot number, and a log event the
// gateway stores saying why.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import test from 'ava';
import { startTestGateway, tempDir, within, type TestGateway } from '../helpers/gateway.js';
import { startSpot } from './spot-process.js';
import { storedEvents, type StoredEvent } from './spot-scenarios.js';

const HEADER_BYTES = 16;
const PAYLOAD_BYTES = 1120;

interface Boot {
  bootCount: number;
  logs: Array<Record<string, unknown>>;
}

/** One short run of the spot on stateDir; what the gateway stored of it. */
async function boot(t: Parameters<typeof startSpot>[0], gateway: TestGateway, serial: number, stateDir: string, seen: number): Promise<Boot> {
  const spot = startSpot(t, { target: 'arm-linux', serial, brain: `127.0.0.1:${gateway.port}`, scenario: '', runSeconds: 2, stateDir });
  const code = await within(spot.exited, 30000, 'the spot to finish its run');
  if (code !== 0) throw new Error(`spot exited ${String(code)}: ${spot.console()}`);
  const events: StoredEvent[] = (await storedEvents(gateway, serial)).slice(seen);
  const create = events.find((e) => e.resource === 'spot' && e.action === 'create');
  if (!create) throw new Error(`no spot create stored: ${spot.console()}`);
  return {
    bootCount: Number(create.data.boot_count),
    logs: events.filter((e) => e.resource === 'log' && e.action === 'create').map((e) => e.data),
  };
}

test.serial('state.bin is a CRC-checked record; damaged or of older firmware, the spot boots with factory defaults and says why', async (t) => {
  const gateway = await startTestGateway(t);
  const serial = 5131;
  const stateDir = tempDir(t, 'spot-state-');
  const file = path.join(stateDir, 'state.bin');
  let seen = 0;
  const next = async () => {
    const b = await boot(t, gateway, serial, stateDir, seen);
    seen = (await storedEvents(gateway, serial)).length;
    return b;
  };

  const first = await next();
  t.is(first.bootCount, 1);
  t.deepEqual(first.logs, []);
  const record = readFileSync(file);
  t.is(record.length, HEADER_BYTES + PAYLOAD_BYTES);
  t.deepEqual([...record.subarray(0, 4)], [0x54, 0x4f, 0x50, 0x53], 'magic');
  t.is(record.readUInt32LE(4), 3, 'format version');
  t.is(record.readUInt32LE(8), PAYLOAD_BYTES, 'payload length');
  const crc = crc32(record.subarray(HEADER_BYTES), crc32(record.subarray(0, 12)));
  t.is(record.readUInt32LE(12), crc, 'CRC-32 (zlib) of bytes 0-11 and the payload');

  // One bit flipped in the payload, as a torn or decayed write would leave it.
  const damaged = Buffer.from(record);
  damaged[HEADER_BYTES + 100]! ^= 0x01;
  writeFileSync(file, damaged);
  const second = await next();
  t.deepEqual(second.logs.map((l) => [l.text, l.level, l.code]), [['stored state rejected (CRC-32 mismatch): factory defaults used', 'warn', 8]]);
  t.true(second.bootCount > first.bootCount, `a new boot number (the clock's): ${second.bootCount}`);

  // The spot wrote a valid record again: the next boot counts on from it, silently.
  const third = await next();
  t.is(third.bootCount, second.bootCount + 1);
  t.deepEqual(third.logs, []);

  // Older firmware stored the raw struct: magic, version 2, then the fields, no length and no CRC.
  const old = Buffer.alloc(8 + PAYLOAD_BYTES);
  old.writeUInt32LE(0x53504f54, 0);
  old.writeUInt32LE(2, 4);
  readFileSync(file).copy(old, 8, HEADER_BYTES);
  writeFileSync(file, old);
  const fourth = await next();
  t.deepEqual(fourth.logs.map((l) => l.text), ['stored state rejected (format version 2, expected 3): factory defaults used']);
  t.true(fourth.bootCount > third.bootCount, `a boot number not seen before: ${fourth.bootCount}`);
});
