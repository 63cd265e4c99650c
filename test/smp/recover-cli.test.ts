// `spot-gateway smp recover` in-process against the SMP stand-in on an in-memory pair (the QEMU
// bootloader's side is test/firmware/mps2-window.test.ts): echo requests until one is answered, the
// image list telling the bootloader's recovery from a running image, which is asked to reset into it.
import test from 'ava';
import type { CliIo } from '../../gateway/src/cli/index.js';
import type { PortOpener } from '../../gateway/src/cli/serial.js';
import { runSmpCli } from '../../gateway/src/cli/smp.js';
import { decodeMessage, GROUP, OS_COMMAND } from '../../gateway/src/smp/message.js';
import { SerialFrameReader } from '../../gateway/src/smp/serial-frame.js';
import { portPair } from '../helpers/port-pair.js';
import { freshFlash, SmpServerStandIn, type StandInOptions } from '../helpers/smp-server.js';
import { signedImage } from './images.js';

const A = signedImage('1.0.0', 3000);
const PORT = ['--port', '/dev/ttySPOT', '--timeout', '200', '--tries', '2'];

/** drain: how the port reports written bytes gone (serialport's drain): at once, never (a device that reads nothing), or no such method. */
function bench(options: StandInOptions = {}, onDeviceWrite?: () => void, drain: 'at-once' | 'never' | 'none' = 'at-once') {
  let out = '';
  let err = '';
  const io: CliIo = { out: (s) => (out += s), err: (s) => (err += s), env: {}, cwd: '/' };
  const echoes: string[] = [];
  const { gateway, device } = portPair((from, chunk) => {
    if (from === 'a') wire.push(chunk);
    else onDeviceWrite?.();
  });
  // What the host sent: every echo request's text, in order.
  const wire = new SerialFrameReader((event) => {
    if (event.kind !== 'packet') return;
    const m = decodeMessage(event.body);
    if (m.ok && m.message.header.group === GROUP.os && m.message.header.id === OS_COMMAND.echo) echoes.push(String(m.message.body.d));
  });
  const server = new SmpServerStandIn(device, freshFlash(A), options);
  let drains = 0;
  const port = drain === 'none' ? gateway : Object.assign(gateway, {
    drain: (callback: () => void) => {
      drains++;
      if (drain === 'at-once') setImmediate(callback);
    },
  });
  const opener: PortOpener = async () => ({ ok: true, opened: { port, close: async () => undefined } });
  return { io, opener, server, echoes, drains: () => drains, out: () => out, err: () => err };
}

test('a spot that answers nothing (a hung image) until it is reset: echoes go on, the bootloader answers one, recover prints the slots and exits 0', async (t) => {
  const b = bench();
  b.server.silent = true;
  const run = runSmpCli(['recover', ...PORT], b.io, b.opener);
  // The hung image's time: echo requests go unanswered until the technician's reset.
  await new Promise((resolve) => setTimeout(resolve, 80));
  const unanswered = b.echoes.length;
  t.true(unanswered >= 3, `echo requests while nothing answered: ${unanswered}`);
  b.server.recovery = true;
  b.server.silent = false;
  t.is(await run, 0, b.err());
  t.regex(b.out(), /^serial recovery: the bootloader answers \(spot-gateway flash --upload-only puts an image there\)\nimage 0 slot 0: 1\.0\.0 {2}confirmed bootable {2}hash [0-9a-f]{64}\n$/);
  t.regex(b.err(), /^smp recover: sending SMP echo on \/dev\/ttySPOT every 5 ms: reset or power-cycle the spot now \(waiting up to 60 s\)\n$/);
  t.deepEqual(b.server.resetBootModes, [], 'the recovery answered: nothing asked of it');
  t.true(b.echoes.every((d) => d === 'recover 0'));
  t.true(b.drains() >= unanswered, 'each echo waited for the port to send it');
});

test('a running image answers the echo: it is asked once to reset into serial recovery (boot_mode 1); --json gives the slots', async (t) => {
  const b = bench({}, undefined, 'none');
  t.is(await runSmpCli(['recover', ...PORT, '--json'], b.io, b.opener), 0, b.err());
  t.deepEqual(b.server.resetBootModes, [1]);
  t.like(JSON.parse(b.out()), { recovery: true, images: [{ slot: 0, version: '1.0.0', active: false }] });
  t.regex(b.err(), /\nsmp recover: the running image 1\.0\.0 answers, not the bootloader\nsmp recover: asked the running image to reset into serial recovery \(boot_mode 1\)\n$/);
  // The echoes after the ask are a new round: a late answer of the image's does not count for the bootloader's.
  t.true(b.echoes.includes('recover 0') && b.echoes.includes('recover 1'));
});

test('a running image without a bootloader recovery refuses boot_mode 1: exit 32, saying so', async (t) => {
  const b = bench({ noBootloader: true });
  t.is(await runSmpCli(['recover', ...PORT], b.io, b.opener), 32);
  t.regex(b.err(), /spot-gateway: smp recover: the running image 1\.0\.0 answers but refused to reset into serial recovery: the device refused group 0 command 5: rc 8/);
});

test('nothing answers within --wait: exit 31, naming what to check', async (t) => {
  const b = bench();
  b.server.silent = true;
  t.is(await runSmpCli(['recover', ...PORT, '--wait', '1'], b.io, b.opener), 31);
  t.regex(b.err(), /spot-gateway: smp recover: no echo answered in 1 s: is the port on the spot's UART0, and was the spot reset or power-cycled in that time\?\n$/);
  t.true(b.echoes.length >= 10, `echo requests in the second: ${b.echoes.length}`);
});

test('a port whose bytes never leave (a device that reads nothing holds them): one echo, and --wait still ends it', async (t) => {
  const b = bench({}, undefined, 'never');
  b.server.silent = true;
  t.is(await runSmpCli(['recover', ...PORT, '--wait', '1'], b.io, b.opener), 31);
  t.is(b.drains(), 1);
  t.regex(b.err(), /no echo answered in 1 s/);
});

test('an echo answered, then no image state: exit 31 with what failed', async (t) => {
  // Answers the first echo, then nothing more (a cable pulled right after).
  const b = bench({}, () => {
    b.server.silent = true;
  });
  t.is(await runSmpCli(['recover', ...PORT], b.io, b.opener), 31);
  t.regex(b.err(), /smp recover: image state after an echo was answered: no answer to group 1 command 0 after 2 tries/);
});

test('--wait is smp recover\'s and takes whole seconds', async (t) => {
  const b = bench();
  t.is(await runSmpCli(['recover', ...PORT, '--wait', 'soon'], b.io, b.opener), 2);
  t.regex(b.err(), /--wait "soon" is not a positive whole number/);
  const list = bench();
  t.is(await runSmpCli(['list', ...PORT, '--wait', '3'], list.io, list.opener), 2);
  t.regex(list.err(), /smp list: Unknown option '--wait'/);
});
