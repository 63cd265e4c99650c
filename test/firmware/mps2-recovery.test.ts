// The mps2 bootloader's serial recovery under qemu-system-arm (docs/bootloader.md, "Serial
// recovery"): with no valid image in the primary slot, or on the app's request (`smp reset
// --bootloader`), the bootloader serves SMP on UART0's pty; `spot-gateway flash --upload-only`
// uploads a signed image there and the next boot swaps it in for good. Needs gateway/dist and
// `make firmware-mps2 firmware-mps2-boot`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { tempDir, waitFor, type Teardown } from '../helpers/gateway.js';
import { PRIMARY, reportedVersion, signApp, slots, startBoard, writeFlash, type Board } from './qemu-board.js';
import { flashed, listed, smpCommand, smpReset } from './qemu-smp.js';

const A = signApp('mps2/spot-slot.bin', '1.0.0');
const B = signApp('mps2/spot-slot.bin', '2.0.0');

const WAITING = 'boot: serial recovery: waiting for SMP on UART0';

/** A flash file whose primary slot holds `primary` (nothing: erased), and B's image file beside it. */
function setUp(t: Teardown, primary: Buffer): { dir: string; file: string; image: string } {
  const dir = tempDir(t, 'spot-recovery-');
  const file = path.join(dir, 'flash.bin');
  writeFlash(file, primary);
  const image = path.join(dir, 'b.img');
  writeFileSync(image, B);
  return { dir, file, image };
}

function primaryHolds(file: string, image: Buffer): boolean {
  return readFileSync(file).subarray(PRIMARY, PRIMARY + image.length).equals(image);
}

function count(text: string, what: string): number {
  return text.split(what).length - 1;
}

/** `flash --upload-only` into the recovery; the flasher's steps, and the bootloader's line for the upload. */
async function uploadInRecovery(t: ExecutionContext, board: Board, image: string): Promise<void> {
  const result = await flashed(board, image, '--upload-only');
  t.is(result.code, 0, result.err);
  t.deepEqual(
    result.events.filter((e) => e.kind !== 'progress').map((e) => e.kind),
    ['image', 'params', 'verified', 'done'],
  );
  await waitFor(() => board.output().includes('boot: serial recovery: image uploaded, marked to be swapped in at the next boot'), 10000, `the mark (${board.output()})`);
}

test.serial('erased primary slot: the bootloader waits in serial recovery; flash --upload-only puts B there; a power cycle boots B', async (t) => {
  t.timeout(120000);
  const { dir, file, image } = setUp(t, Buffer.alloc(0));
  const board = await startBoard(t, dir);
  await waitFor(() => board.output().includes(WAITING), 10000, `serial recovery (${board.output()})`);
  t.regex(board.output(), /boot: nothing to run: no valid image in the primary slot/);
  t.is((await smpCommand(board, 'echo', 'are you there')).trim(), 'are you there');
  t.is((await smpCommand(board, 'params')).trim(), 'buf_size 2048, buf_count 1');
  t.is((await listed(board)).trim(), 'no images');
  await uploadInRecovery(t, board, image);
  t.regex(await listed(board), /^image 0 slot 1: 2\.0\.0 {2}pending permanent bootable {2}hash [0-9a-f]{64}\n$/);
  t.log(/boot: serial recovery: image uploaded[^\n]*/.exec(board.output())?.[0] ?? ''); // its flash operations and stack high-water mark
  await board.kill(); // the power cycle: the request is in the flash, not in RAM

  const again = await startBoard(t, dir);
  t.is(await reportedVersion(again), '2.0.0');
  t.regex(again.output(), /boot: new image swapped in, permanent/);
  await again.kill();
  t.true(primaryHolds(file, B));
});

test.serial('corrupt primary image: listed but not active in serial recovery; B, then C uploaded over it, smp reset boots C confirmed', async (t) => {
  t.timeout(120000);
  const corrupt = Buffer.from(A);
  corrupt.writeUInt8(corrupt.readUInt8(0x200 + 1000) ^ 0x01, 0x200 + 1000);
  const { dir, file, image } = setUp(t, corrupt);
  const C = signApp('mps2/spot-slot.bin', '3.0.0');
  const imageC = path.join(dir, 'c.img');
  writeFileSync(imageC, C);
  const board = await startBoard(t, dir);
  await waitFor(() => board.output().includes(WAITING), 10000, `serial recovery (${board.output()})`);
  // No image runs: the primary's is listed without "active" (so the flasher's checks do not take it for the running one).
  t.regex(await listed(board), /^image 0 slot 0: 1\.0\.0 {2}confirmed bootable {2}hash [0-9a-f]{64}\n$/);
  await uploadInRecovery(t, board, image);
  // Another upload drops B's mark with the trailer sector; C, once complete, is marked in its turn.
  await uploadInRecovery(t, board, imageC);
  await waitFor(() => count(board.output(), 'boot: serial recovery: image uploaded') === 2, 10000, `C marked (${board.output()})`);
  t.regex(await listed(board), /\nimage 0 slot 1: 3\.0\.0 {2}pending permanent bootable /);
  t.is((await smpReset(board)).trim(), 'reset');
  await waitFor(() => board.output().includes('boot: new image swapped in, permanent'), 20000, `the swap (${board.output()})`);
  t.regex(board.output(), /boot: serial recovery: reset/);
  t.regex(await listed(board), /^image 0 slot 0: 3\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\n/);
  await board.kill();
  t.true(primaryHolds(file, C));
});

test.serial('the app asks for serial recovery (smp reset --bootloader); a reset there without an upload runs A again; the next time B is uploaded and runs', async (t) => {
  t.timeout(120000);
  const { dir, file, image } = setUp(t, A);
  const board = await startBoard(t, dir);
  t.is(await reportedVersion(board), '1.0.0');
  t.is((await smpReset(board, '--bootloader')).trim(), 'reset');
  await waitFor(() => board.output().includes(WAITING), 10000, `serial recovery (${board.output()})`);
  t.regex(board.output(), /smp: reset into the bootloader's serial recovery\n/);
  t.regex(board.output(), /boot: serial recovery asked for by the application/);
  t.regex(await listed(board), /^image 0 slot 0: 1\.0\.0 {2}confirmed bootable {2}hash [0-9a-f]{64}\n$/);
  // The request is taken once: a plain reset from the recovery boots the primary.
  t.is((await smpReset(board)).trim(), 'reset');
  await waitFor(() => count(board.output(), 'boot: primary image') === 2, 20000, `A booted again (${board.output()})`);
  t.regex(await listed(board), /^image 0 slot 0: 1\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\n$/);

  t.is((await smpReset(board, '--bootloader')).trim(), 'reset');
  await waitFor(() => count(board.output(), WAITING) === 2, 10000, `serial recovery again (${board.output()})`);
  await uploadInRecovery(t, board, image);
  t.is((await smpReset(board)).trim(), 'reset');
  await waitFor(() => board.output().includes('boot: new image swapped in, permanent'), 20000, `the swap (${board.output()})`);
  t.regex(await listed(board), /^image 0 slot 0: 2\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\nimage 0 slot 1: 1\.0\.0 {2}bootable/);
  await board.kill();
  t.is(slots(file, A, B), 'BA');
});
