// `spot-gateway smp ...`, `flash` and `ports` in-process, with the port opener injected (the
// stand-in on an in-memory pair): usage errors and each failure's documented exit code.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { CliIo } from '../../gateway/src/cli/index.js';
import type { PortOpener } from '../../gateway/src/cli/serial.js';
import { runFlashCli, runPortsCli, runSmpCli } from '../../gateway/src/cli/smp.js';
import { tempDir } from '../helpers/gateway.js';
import { portPair } from '../helpers/port-pair.js';
import { freshFlash, SmpServerStandIn, type StandInOptions } from '../helpers/smp-server.js';
import { PUBLIC_KEY, signedImage } from './images.js';

const A = signedImage('1.0.0', 3000);
const B = signedImage('1.2.0', 9000);

function bench(t: Parameters<typeof tempDir>[0], options: StandInOptions = {}) {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'site.pub.pem'), PUBLIC_KEY.export({ format: 'pem', type: 'spki' }));
  writeFileSync(path.join(dir, 'b.img'), B);
  let out = '';
  let err = '';
  const io: CliIo = { out: (s) => (out += s), err: (s) => (err += s), env: {}, cwd: dir };
  const { gateway, device } = portPair();
  const server = new SmpServerStandIn(device, freshFlash(A), options);
  let opened = 0;
  const opener: PortOpener = async (p) => {
    if (p !== '/dev/ttySPOT') return { ok: false, reason: `cannot open ${p}: No such file or directory` };
    opened++;
    return { ok: true, opened: { port: gateway, close: async () => undefined } };
  };
  return { io, opener, server, dir, out: () => out, err: () => err, opened: () => opened };
}

const PORT = ['--port', '/dev/ttySPOT', '--timeout', '100', '--tries', '2'];

test('smp list prints one line per slot; --json prints the slots', async (t) => {
  const b = bench(t);
  t.is(await runSmpCli(['list', ...PORT], b.io, b.opener), 0, b.err());
  t.regex(b.out(), /^image 0 slot 0: 1\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\n$/);
  const j = bench(t);
  t.is(await runSmpCli(['list', ...PORT, '--json'], j.io, j.opener), 0);
  t.like(JSON.parse(j.out()), { images: [{ slot: 0, version: '1.0.0', active: true }] });
});

test('smp reset answers and the device restarts', async (t) => {
  const b = bench(t);
  t.is(await runSmpCli(['reset', ...PORT], b.io, b.opener), 0, b.err());
  t.is(b.out(), 'reset\n');
  t.is(b.server.resets, 1);
  t.deepEqual(b.server.resetBootModes, [undefined]);
});

test('smp reset --bootloader asks for boot_mode 1 (serial recovery); the option belongs to reset alone', async (t) => {
  const b = bench(t);
  t.is(await runSmpCli(['reset', '--bootloader', ...PORT, '--json'], b.io, b.opener), 0, b.err());
  t.deepEqual(JSON.parse(b.out()), { answered: true });
  t.deepEqual(b.server.resetBootModes, [1]);
  const list = bench(t);
  t.is(await runSmpCli(['list', '--bootloader', ...PORT], list.io, list.opener), 2);
  t.regex(list.err(), /^spot-gateway: smp list: Unknown option '--bootloader'/);
  t.is(list.opened(), 0);
});

test('a port that cannot be opened exits 30, a silent device 31, each with one line saying why', async (t) => {
  const b = bench(t);
  t.is(await runSmpCli(['echo', '--port', '/dev/ttyNONE'], b.io, b.opener), 30);
  t.is(b.err(), 'spot-gateway: cannot open /dev/ttyNONE: No such file or directory\n');
  const silent = bench(t, { faults: { dropResponses: 10 } });
  t.is(await runSmpCli(['echo', ...PORT], silent.io, silent.opener), 31);
  t.regex(silent.err(), /^spot-gateway: smp echo: no answer to group 0 command 0 after 2 tries \(100 ms each\)\n$/);
});

test('usage errors exit 2 and name the problem', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate', ...PORT], /unknown command "smp frobnicate"/],
    [['list'], /needs --port PATH/],
    [['list', ...PORT, '--baud', 'fast'], /--baud "fast" is not a positive whole number/],
    [['list', ...PORT, 'extra'], /smp list: unexpected "extra"/],
  ];
  for (const [args, message] of cases) {
    const b = bench(t);
    t.is(await runSmpCli(args, b.io, b.opener), 2, args.join(' '));
    t.regex(b.err(), message);
    t.is(b.opened(), 0);
  }
});

test('flash: conflicting modes, a missing key or image, exit 2 or 3 before the port is opened', async (t) => {
  const modes = bench(t);
  t.is(await runFlashCli([...PORT, '--pub', 'site.pub', '--test', '--upload-only', 'b.img'], modes.io, modes.opener), 2);
  t.regex(modes.err(), /--test and --upload-only exclude each other/);
  const nokey = bench(t);
  t.is(await runFlashCli([...PORT, 'b.img'], nokey.io, nokey.opener), 2);
  t.regex(nokey.err(), /flash needs --pub KEY\.pub/);
  const badkey = bench(t);
  t.is(await runFlashCli([...PORT, '--pub', 'nothere', 'b.img'], badkey.io, badkey.opener), 3);
  const noimage = bench(t);
  t.is(await runFlashCli([...PORT, '--pub', 'site.pub', 'missing.img'], noimage.io, noimage.opener), 3);
  t.regex(noimage.err(), /cannot read missing\.img: ENOENT/);
  for (const b of [modes, nokey, badkey, noimage]) t.is(b.opened(), 0);
});

test('flash: an image for another target exits 20 without opening the port', async (t) => {
  const b = bench(t);
  writeFileSync(path.join(b.dir, 'other.img'), signedImage('1.2.0', 2000, 'nrf52840'));
  t.is(await runFlashCli([...PORT, '--pub', 'site.pub', 'other.img'], b.io, b.opener), 20);
  t.regex(b.err(), /^spot-gateway: other\.img: wrong-target: /);
  t.is(b.opened(), 0);
});

test('flash: an upload the device refuses exits 33', async (t) => {
  const b = bench(t);
  b.server.flash.primaryConfirmed = false;
  t.is(await runFlashCli([...PORT, '--pub', 'site.pub', 'b.img'], b.io, b.opener), 33);
  t.regex(b.err(), /flash b\.img: upload-refused: image upload: the device refused group 1 command 1: rc 6 in group 1/);
});

test('flash prints one progress line per 10 % when not on a terminal, and the outcome', async (t) => {
  const b = bench(t, { bufSize: 512 });
  t.is(await runFlashCli([...PORT, '--pub', 'site.pub', '--boot-wait', '2', 'b.img'], b.io, b.opener), 0, b.err());
  const progress = b.err().split('\n').filter((l) => l.startsWith('upload '));
  t.true(progress.length >= 9 && progress.length <= 11, progress.join('\n'));
  t.regex(progress.at(-1)!, /^upload \d+\/\d+ bytes 100% \d+ B\/s 0 s left$/);
  t.is(b.out(), 'b.img: 1.2.0 running, confirmed\n');
});

test('ports lists by-id names first, or says there are none', async (t) => {
  let out = '';
  const io: CliIo = { out: (s) => (out += s), err: () => undefined, env: {}, cwd: '/' };
  const listed = [
    { path: '/dev/ttyS0', byId: null, description: '' },
    { path: '/dev/ttyUSB0', byId: '/dev/serial/by-id/usb-FTDI_spot-if00-port0', description: 'FTDI, serial A1' },
  ];
  t.is(await runPortsCli([], io, async () => listed), 0);
  t.is(out, '/dev/serial/by-id/usb-FTDI_spot-if00-port0 -> /dev/ttyUSB0  (FTDI, serial A1)\n/dev/ttyS0\n');
  out = '';
  t.is(await runPortsCli([], io, async () => []), 0);
  t.is(out, 'no serial ports found\n');
});
