// The mps2 bootloader's serial-recovery window at reset under qemu-system-arm (docs/bootloader.md,
// "Serial recovery"): an SMP echo request on UART0 within the window keeps a spot whose primary
// image is valid and confirmed in serial recovery, the way a technician gets past an image that hangs
// (`spot-gateway smp recover`, then `flash --upload-only`); anything else on the line boots the image.
// Needs gateway/dist and `make firmware-mps2 firmware-mps2-boot`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { encodeMessage, GROUP, IMAGE_COMMAND, OP, OS_COMMAND } from '../../gateway/src/smp/message.js';
import { encodePacket } from '../../gateway/src/smp/serial-frame.js';
import { tempDir, waitFor, within } from '../helpers/gateway.js';
import { reportedVersion, signApp, slots, startBoard, writeFlash, type Board } from './qemu-board.js';
import { flashed, listed, recovering, smpReset } from './qemu-smp.js';

const A = signApp('mps2/spot-slot.bin', '1.0.0');
const B = signApp('mps2/spot-slot.bin', '2.0.0');

const IN_WINDOW = 'boot: serial recovery: an SMP echo request within the window';
const RECOVERY_ANSWERS = /^serial recovery: the bootloader answers \(spot-gateway flash --upload-only puts an image there\)\nimage 0 slot 0: 1\.0\.0 {2}confirmed bootable {2}hash [0-9a-f]{64}\n$/;

function count(text: string, what: string): number {
  return text.split(what).length - 1;
}

function setUp(t: ExecutionContext): { dir: string; file: string; image: string } {
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

/** Boots A, then stops its CPU: an image that hangs, reading nothing from UART0 (QEMU's pty stays in use). */
async function hungA(t: ExecutionContext, dir: string): Promise<Board> {
  const board = await startBoard(t, dir);
  t.is(await reportedVersion(board), '1.0.0');
  await board.stopCpu();
  return board;
}

test.serial('an image that answers nothing (its CPU stopped): smp recover goes on while the spot is reset, the window keeps the bootloader in serial recovery; B uploaded there runs after a reset', async (t) => {
  t.timeout(120000);
  const { dir, file, image } = setUp(t);
  const board = await hungA(t, dir);
  const recover = await recovering(board);
  board.monitor('system_reset'); // the technician's reset button
  board.monitor('cont');
  t.is(await recover.done(), 0, recover.stderr());
  t.regex(recover.stdout(), RECOVERY_ANSWERS);
  t.false(recover.stderr().includes('answers, not the bootloader'), recover.stderr());
  t.is(count(board.output(), IN_WINDOW), 1, board.output());
  // A's boot before it hung, then the reset's decision (said before the window, which overrode it).
  t.is(count(board.output(), 'boot: primary image'), 2, board.output());
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

test.serial('a running image answers smp recover\'s echo: asked for boot_mode 1, it resets into serial recovery, and recover returns there', async (t) => {
  t.timeout(120000);
  const { dir } = setUp(t);
  const board = await startBoard(t, dir);
  t.is(await reportedVersion(board), '1.0.0');
  const recover = await recovering(board);
  t.is(await recover.done(), 0, recover.stderr());
  t.regex(recover.stderr(), /\nsmp recover: the running image 1\.0\.0 answers, not the bootloader\nsmp recover: asked the running image to reset into serial recovery \(boot_mode 1\)\n$/);
  t.regex(recover.stdout(), RECOVERY_ANSWERS);
  t.regex(board.output(), /boot: serial recovery asked for by the application/);
  t.regex(await listed(board), /^image 0 slot 0: 1\.0\.0 {2}confirmed bootable /);
});

test.serial('what is not an echo request in the window (console text, noise, a flasher\'s image state poll, a bad CRC) boots A after the window', async (t) => {
  t.timeout(120000);
  const { dir } = setUp(t);
  const bad = request(OP.write, GROUP.os, OS_COMMAND.echo, { d: 'crc' });
  bad[6] = bad[6] === 0x41 ? 0x42 : 0x41;
  const noise = Buffer.concat([
    Buffer.from('boot: primary image (2 flash operations, stack 4248 bytes, 100 ms)\n{"resource":"spot","action":"create"}\n'),
    Buffer.from([0x00, 0xff, 0x06, 0x08, 0x04, 0x14, 0x0a, 0x06, 0x09, 0x21, 0x0a]),
    request(OP.read, GROUP.image, IMAGE_COMMAND.state, {}),
    bad,
  ]);
  // (An echo inside a line is left to test_smp_window.c: the window may open anywhere in the stream, at its marker too.)
  const board = await hungA(t, dir);
  // The noise goes on across the reset, as a host's would (QEMU looks at the pty again when bytes come in).
  let noisy = true;
  const pump = (async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the finally below ends it
    while (noisy) {
      await board.write(noise);
      await new Promise((resolve) => setTimeout(resolve, 5)); // the pace of the noise
    }
  })();
  board.monitor('system_reset');
  board.monitor('cont');
  try {
      // A runs again: it reports itself a second time.
    await waitFor(() => board.events.filter((e) => e.resource === 'spot' && e.action === 'create').length === 2, 20000, `A booted again (${board.output()})`);
  } finally {
    noisy = false;
    await within(pump, 10000, 'the noise to stop');
  }
  t.false(board.output().includes('serial recovery'), board.output());
  t.is(count(board.output(), 'boot: primary image'), 2, board.output());
  t.log([...board.output().matchAll(/boot: primary image[^\n]*/g)][1]?.[0] ?? ''); // the decision's own time, in the window
});
