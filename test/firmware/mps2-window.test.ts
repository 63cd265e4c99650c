// The mps2 bootloader's serial-recovery window at reset under qemu-system-arm (docs/bootloader.md,
// "Serial recovery"): an SMP echo request on UART0 within the window keeps a spot whose primary
// image is valid and confirmed in serial recovery, the way a technician gets past an image that hangs
// (`spot-gateway smp recover`, then `flash --upload-only`); anything else on the line boots the image.
// Needs gateway/dist and `make firmware-mps2 firmware-mps2-boot`.
import path from 'node:path';
import test from 'ava';
import { encodeMessage, GROUP, IMAGE_COMMAND, OP, OS_COMMAND } from '../../gateway/src/smp/message.js';
import { encodePacket } from '../../gateway/src/smp/serial-frame.js';
import { tempDir, waitFor } from '../helpers/gateway.js';
import { reportedVersion, signApp, slots, startBoard, writeFlash } from './qemu-board.js';
import { flashed, listed, recovering, smpReset } from './qemu-smp.js';
import { writeFileSync } from 'node:fs';

const A = signApp('mps2/spot-slot.bin', '1.0.0');
const B = signApp('mps2/spot-slot.bin', '2.0.0');

const IN_WINDOW = 'boot: serial recovery: an SMP echo request within the window';
const RECOVERY_ANSWERS = /^serial recovery: the bootloader answers \(spot-gateway flash --upload-only puts an image there\)\nimage 0 slot 0: 1\.0\.0 {2}confirmed bootable {2}hash [0-9a-f]{64}\n$/;

function count(text: string, what: string): number {
  return text.split(what).length - 1;
}

function setUp(t: Parameters<typeof tempDir>[0]): { dir: string; file: string; image: string } {
  const dir = tempDir(t, 'spot-window-');
  const file = path.join(dir, 'flash.bin');
  writeFlash(file, A);
  const image = path.join(dir, 'b.img');
  writeFileSync(image, B);
  return { dir, file, image };
}

function request(op: number, group: number, id: number, body: Record<string, unknown>): Buffer {
  return encodePacket(encodeMessage({ op: op as 0 | 1 | 2 | 3, version: 1, flags: 0, group, seq: 9, id }, body));
}

test.serial('power-on with smp recover already sending: the bootloader stays in serial recovery over a good, confirmed A; B uploaded there runs after a reset', async (t) => {
  t.timeout(120000);
  const { dir, file, image } = setUp(t);
  const board = await startBoard(t, dir, { paused: true });
  const recover = await recovering(board);
  board.monitor('cont'); // the power-on, while the echo requests go out
  t.is(await recover.done(), 0, recover.stderr());
  t.regex(recover.stdout(), RECOVERY_ANSWERS);
  t.true(board.output().includes(IN_WINDOW), board.output());
  t.false(board.output().includes('boot: primary image'), 'A never ran');
  t.log(new RegExp(`${IN_WINDOW}[^\\n]*`).exec(board.output())?.[0] ?? ''); // when, after the reset

  const uploaded = await flashed(board, image, '--upload-only');
  t.is(uploaded.code, 0, uploaded.err);
  await waitFor(() => board.output().includes('boot: serial recovery: image uploaded, marked to be swapped in at the next boot'), 10000, `the mark (${board.output()})`);
  t.is((await smpReset(board)).trim(), 'reset');
  await waitFor(() => board.output().includes('boot: new image swapped in, permanent'), 20000, `the swap (${board.output()})`);
  t.regex(await listed(board), /^image 0 slot 0: 2\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\nimage 0 slot 1: 1\.0\.0 {2}bootable/);
  t.is(count(board.output(), IN_WINDOW), 1, 'the reset after the upload: nothing sent, no recovery');
  await board.kill();
  t.is(slots(file, A, B), 'BA');
});

test.serial('an image that answers nothing (its CPU stopped): smp recover goes on while the spot is reset, and the window catches it; a reset from there boots A again', async (t) => {
  t.timeout(120000);
  const { dir } = setUp(t);
  const board = await startBoard(t, dir);
  t.is(await reportedVersion(board), '1.0.0');
  board.monitor('stop'); // A hangs: nothing reads UART0 any more
  const recover = await recovering(board);
  board.monitor('system_reset'); // the technician's reset button
  board.monitor('cont');
  t.is(await recover.done(), 0, recover.stderr());
  t.regex(recover.stdout(), RECOVERY_ANSWERS);
  t.false(recover.stderr().includes('answers, not the bootloader'), recover.stderr());
  t.is(count(board.output(), IN_WINDOW), 1, board.output());
  t.is(count(board.output(), 'boot: primary image'), 1, 'A ran once, before it hung');
  t.is((await smpReset(board)).trim(), 'reset');
  await waitFor(() => count(board.output(), 'boot: primary image') === 2, 20000, `A booted again (${board.output()})`);
  t.regex(await listed(board), /^image 0 slot 0: 1\.0\.0 {2}active confirmed bootable /);
});

test.serial('what is not an echo request in the window (console text, noise, a flasher\'s image state poll, an echo inside a line, a bad CRC) boots A after the window', async (t) => {
  t.timeout(120000);
  const { dir } = setUp(t);
  const bad = request(OP.write, GROUP.os, OS_COMMAND.echo, { d: 'crc' });
  bad[6] = bad[6] === 0x41 ? 0x42 : 0x41;
  const noise = Buffer.concat([
    Buffer.from('boot: primary image (2 flash operations, stack 4248 bytes, 100 ms)\n{"resource":"spot","action":"create"}\n'),
    Buffer.from([0x00, 0xff, 0x06, 0x08, 0x04, 0x14, 0x0a, 0x06, 0x09, 0x21, 0x0a]),
    request(OP.read, GROUP.image, IMAGE_COMMAND.state, {}),
    Buffer.from('log '),
    request(OP.write, GROUP.os, OS_COMMAND.echo, { d: 'inside a line' }),
    bad,
  ]);
  const board = await startBoard(t, dir, { paused: true });
  await board.write(noise);
  board.monitor('cont');
  t.is(await reportedVersion(board), '1.0.0');
  t.false(board.output().includes('serial recovery'), board.output());
  const boot = /boot: primary image \(\d+ flash operations, stack \d+ bytes, (\d+) ms\)/.exec(board.output());
  t.truthy(boot, board.output());
  t.true(Number(boot![1]) >= 100, `A was jumped to ${boot![1]} ms after the reset: the window is 100 ms`);
  t.log(boot![0]);
});
