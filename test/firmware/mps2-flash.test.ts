// Flashing the mps2-an385 spot under qemu-system-arm with `spot-gateway flash` over UART0's pty: the
// spot's own SMP server, the bootloader's swap, trial and revert, its flash in a host file
// (docs/smp.md, docs/bootloader.md). Needs gateway/dist and `make firmware-mps2 firmware-mps2-boot`.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createPbDecoder, type SpotEvent } from '../../gateway/src/protocol/index.js';
import { EventEmitter } from 'node:events';
import { SmpClient, type SmpPort } from '../../gateway/src/smp/client.js';
import { echo, imageState } from '../../gateway/src/smp/commands.js';
import { runCli, tempDir, waitFor, within, type Teardown } from '../helpers/gateway.js';
import { reportedVersion, signApp, slots, startBoard, writeFlash, type Board } from './qemu-board.js';
import { flash, flashed, jsonLines, listed, smpReset } from './qemu-smp.js';

const A = signApp('mps2/spot-slot.bin', '1.0.0');
const B = signApp('mps2/spot-slot.bin', '2.0.0');

/** A spot-protocol command on UART0 (the port taken back from the CLI), as the gateway sends it (JSON stream). */
async function sendCommand(board: Board, data: Record<string, unknown>): Promise<void> {
  await board.openPort();
  await board.write(`${JSON.stringify(['config', 'update', data])}\n\n`);
}

function setUp(t: Teardown): { dir: string; file: string; write: (name: string, img: Buffer) => string } {
  const dir = tempDir(t, 'spot-flash-');
  const file = path.join(dir, 'flash.bin');
  writeFlash(file, A);
  return {
    dir,
    file,
    write: (name, img) => {
      writeFileSync(path.join(dir, name), img);
      return path.join(dir, name);
    },
  };
}

/** A running A from its flash file, B's image written beside it. */
async function runningA(t: ExecutionContext): Promise<{ dir: string; file: string; image: string; board: Board }> {
  const { dir, file, write } = setUp(t);
  const image = write('b.img', B);
  const board = await startBoard(t, dir);
  t.is(await reportedVersion(board), '1.0.0');
  return { dir, file, image, board };
}

/** A QEMU restart (a power cycle) boots B from the primary slot, A kept in the secondary. */
async function restartBootsB(t: ExecutionContext, dir: string, file: string): Promise<void> {
  const again = await startBoard(t, dir);
  t.is(await reportedVersion(again), '2.0.0');
  t.regex(again.output(), /boot: primary image/);
  await again.kill();
  t.is(slots(file, A, B), 'BA');
}

test.serial('A runs; flash writes B over the pty; the spot reboots into B, reports it, the flasher confirms it; a QEMU restart still boots B', async (t) => {
  t.timeout(120000);
  const { dir, file, image, board } = await runningA(t);
  const result = await flashed(board, image);
  t.is(result.code, 0, result.err);
  t.deepEqual(
    result.events.filter((e) => e.kind !== 'progress').map((e) => e.kind),
    ['image', 'params', 'verified', 'marked', 'reset', 'booted', 'confirmed', 'done'],
  );
  t.like(result.events.find((e) => e.kind === 'params'), { bufSize: 2048 });
  t.regex(board.output(), /boot: new image swapped in for a trial boot/);
  // The flasher's image state write (confirm=true) confirmed B, not the app: SMP requests do not confirm.
  t.regex(await listed(board), /^image 0 slot 0: 2\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\nimage 0 slot 1: 1\.0\.0 /);
  t.notRegex(board.output(), /running image confirmed/);
  // The gateway's first command after the flasher's confirm finds nothing left to confirm.
  await sendCommand(board, { rfid_power_dbm: 21 });
  await waitFor(() => board.output().includes('smp: link up (a spot-protocol command): running image already confirmed'), 10000, `the link line (${board.output()})`);
  await board.kill();
  t.is(slots(file, A, B), 'BA');

  await restartBootsB(t, dir, file);
});

test.serial('flash --test leaves B on trial (SMP requests do not confirm it); a guest reset reverts to A', async (t) => {
  t.timeout(120000);
  const { file, image, board } = await runningA(t);
  const result = await flashed(board, image, '--test');
  t.is(result.code, 0, result.err);
  t.deepEqual(
    result.events.filter((e) => e.kind !== 'progress').map((e) => e.kind),
    ['image', 'params', 'verified', 'marked', 'reset', 'booted', 'done'],
  );
  t.like(result.events.find((e) => e.kind === 'done'), { version: '2.0.0', booted: true, confirmed: false });
  t.regex(await listed(board), /^image 0 slot 0: 2\.0\.0 {2}active bootable {2}hash [0-9a-f]{64}\nimage 0 slot 1: 1\.0\.0 /);
  t.is(slots(file, A, B), 'BA');
  t.is((await smpReset(board)).trim(), 'reset');
  await waitFor(() => board.output().includes('boot: trial image not confirmed: old image swapped back'), 20000, `the revert (${board.output()})`);
  t.notRegex(board.output(), /running image confirmed/);
  t.regex(await listed(board), /^image 0 slot 0: 1\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\nimage 0 slot 1: 2\.0\.0 {2}bootable/);
  await board.kill();
  t.is(slots(file, A, B), 'AB');
});

test.serial('flash --test, then a spot-protocol command on UART0: B confirms itself; a QEMU restart still boots B', async (t) => {
  t.timeout(120000);
  const { dir, file, image, board } = await runningA(t);
  const result = await flashed(board, image, '--test');
  t.is(result.code, 0, result.err);
  t.regex(await listed(board), /^image 0 slot 0: 2\.0\.0 {2}active bootable {2}hash /);
  await sendCommand(board, { rfid_power_dbm: 21 });
  await waitFor(() => board.output().includes('smp: link up (a spot-protocol command): running image confirmed'), 10000, `the confirm (${board.output()})`);
  await waitFor(() => board.events.find((e) => e.resource === 'config' && e.action === 'update' && e.data.rfid_power_dbm === 21), 10000, 'the config update event');
  t.regex(await listed(board), /^image 0 slot 0: 2\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\nimage 0 slot 1: 1\.0\.0 /);
  await board.kill();
  t.is(slots(file, A, B), 'BA');

  await restartBootsB(t, dir, file);
});

test.serial('QEMU killed in the middle of the upload: A boots again, the next flash resumes from the offset the device found in its flash', async (t) => {
  t.timeout(120000);
  const { dir, file, image, board } = await runningA(t);
  await board.closePort();
  const run = flash(board, image);
  const progress = () => jsonLines(run.stdout()).filter((e) => e.kind === 'progress').map((e) => Number(e.off));
  await waitFor(() => progress().some((off) => off >= B.length * 0.4), 30000, `40 % of the upload (${run.stderr()})`);
  await board.kill(); // the power cut
  const cutAt = Math.max(...progress());
  const code = await within(run.code, 30000, 'the cut flash to end');
  t.not(code, 0);

  const restarted = await startBoard(t, dir);
  t.is(await reportedVersion(restarted), '1.0.0');
  const result = await flashed(restarted, image);
  t.is(result.code, 0, result.err);
  const resumed = result.events.find((e) => e.kind === 'resumed');
  t.truthy(resumed, JSON.stringify(result.events.slice(0, 4)));
  const offset = Number(resumed!.offset);
  t.log(`upload cut at ${cutAt} of ${B.length} bytes; resumed from offset ${offset}`);
  t.true(offset > 0 && offset <= cutAt, `resumed at ${offset}, cut at ${cutAt}`);
  t.is(offset % 4096, 0); // the start of the sector holding the last programmed byte
  await restarted.kill();
  t.is(slots(file, A, B), 'BA');
});

test.serial('QEMU killed during the swap (--power-cut-before N): the next start finishes or reverts it, A or B, never neither', async (t) => {
  t.timeout(240000);
  for (const cut of [2, 300, 700]) {
    const { dir, file, write } = setUp(t);
    const image = write('b.img', B);
    const board = await startBoard(t, dir, { append: `--power-cut-before ${cut}` });
    t.is(await reportedVersion(board), '1.0.0');
    await board.closePort();
    const run = flash(board, image);
    t.is(await within(board.exited, 60000, `the cut before flash operation ${cut}`), 9, run.stderr());
    run.kill();
    await run.code;
    const next = await startBoard(t, dir);
    const version = await reportedVersion(next);
    const state = slots(file, A, B);
    t.true(state === 'AB' || state === 'BA', `cut before ${cut}: ${state}`);
    t.is(version, state === 'AB' ? '1.0.0' : '2.0.0');
    t.log(`cut before flash operation ${cut}: the next start runs ${version} (${/boot: [^\n]*/.exec(next.output())?.[0] ?? ''})`);
    await next.kill();
    // Nothing confirmed B (the flasher's confirm never came, no command): the start after reverts it.
    const last = await startBoard(t, dir);
    t.is(await reportedVersion(last), '1.0.0');
    await last.kill();
    t.is(slots(file, A, B), 'AB');
  }
});

test.serial('a B built to fail its trial boot is reverted to A at its reset; the flasher exits not-booted (35)', async (t) => {
  t.timeout(120000);
  const { dir, file, write } = setUp(t);
  const failing = signApp('mps2/spot-slot-trial-fails.bin', '2.0.0');
  const image = write('b.img', failing);
  const board = await startBoard(t, dir);
  t.is(await reportedVersion(board), '1.0.0');
  const result = await flashed(board, image);
  t.is(result.code, 35, result.err);
  t.regex(result.err, /not-booted/);
  t.regex(board.output(), /mps2: built to fail its trial: no confirm, reset/);
  t.regex(board.output(), /boot: trial image not confirmed: old image swapped back/);
  const list = await listed(board);
  t.regex(list, /^image 0 slot 0: 1\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\nimage 0 slot 1: 2\.0\.0 {2}bootable/);
  await board.kill();
  t.is(slots(file, A, failing), 'AB');
});

test.serial('corrupt, wrongly signed and wrong-target images are refused before anything is written: the flash file is unchanged', async (t) => {
  t.timeout(120000);
  const { dir, file, write } = setUp(t);
  const keygen = runCli(['image', 'keygen', '--out', path.join(dir, 'other')]);
  t.is(await within(keygen.exited, 20000, 'keygen'), 0);
  const corrupt = Buffer.from(B);
  corrupt.writeUInt8(corrupt.readUInt8(0x200 + 1000) ^ 0x01, 0x200 + 1000);
  const images = {
    corrupt: write('corrupt.img', corrupt),
    'another key': write('other-key.img', signApp('mps2/spot-slot.bin', '2.0.0', { key: path.join(dir, 'other.pem') })),
    'another target': write('other-target.img', signApp('mps2/spot-slot.bin', '2.0.0', { target: 'lm3s6965evb' })),
  };
  const board = await startBoard(t, dir);
  t.is(await reportedVersion(board), '1.0.0');
  const before = createHash('sha256').update(readFileSync(file)).digest('hex');
  for (const [what, image] of Object.entries(images)) {
    const result = await flashed(board, image);
    t.true(typeof result.code === 'number' && result.code >= 10 && result.code <= 21, `${what}: exit ${result.code} ${result.err}`);
    t.is(createHash('sha256').update(readFileSync(file)).digest('hex'), before, what);
  }
  t.regex(await listed(board), /^image 0 slot 0: 1\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\n$/);
  await board.kill();
});

test.serial('PB stream: the spot writes its SMP answers between PB frames; every PB frame decodes, every answer arrives', async (t) => {
  t.timeout(60000);
  const { dir } = setUp(t);
  const decoder = createPbDecoder();
  const events: SpotEvent[] = [];
  const rejected: string[] = [];
  let client: SmpClient | null = null;
  await startBoard(t, dir, {
    append: '--encoding pb',
    beforeRun: (port) => {
      // UART0 opens with the bootloader's line of text; the PB stream starts after its newline.
      const feed = new EventEmitter();
      let booted = false;
      port.on('data', (chunk: Buffer) => {
        if (!booted) {
          const nl = chunk.indexOf(0x0a);
          if (nl < 0) return;
          booted = true;
          chunk = chunk.subarray(nl + 1);
        }
        if (chunk.length > 0) feed.emit('data', chunk);
      });
      const stream: SmpPort = { write: (data) => port.write(data), on: (e, l) => feed.on(e, l), off: (e, l) => feed.off(e, l) };
      client = new SmpClient(stream, {
        stream: 'pb',
        onStream: (bytes) => {
          for (const item of decoder.push(bytes)) {
            if (item.kind === 'event') events.push(item.event);
            else rejected.push(item.rejected.reason);
          }
        },
      });
    },
  });
  const smp = client as SmpClient | null;
  if (!smp) throw new Error('no client');
  t.teardown(() => smp.close());
  const created = await waitFor(() => events.find((e) => e.resource === 'spot' && e.action === 'create'), 15000, 'spot create');
  t.is(created.data.version, '1.0.0');
  for (let i = 0; i < 30; i++) {
    const answer = await echo(smp, `ping ${i} `.repeat(i + 1));
    t.true(answer.ok && answer.value === `ping ${i} `.repeat(i + 1), JSON.stringify(answer));
  }
  const state = await imageState(smp);
  t.true(state.ok && state.value[0]?.version === '1.0.0' && state.value[0].active, JSON.stringify(state));
  const alive = events.filter((e) => e.resource === 'spot' && e.action === 'update').length;
  await waitFor(() => events.filter((e) => e.resource === 'spot' && e.action === 'update').length > alive, 10000, 'an alive signal after the exchanges');
  t.deepEqual(rejected, []);
  t.is(smp.stats.dropped, 0);
  t.is(smp.stats.retries, 0);
});
