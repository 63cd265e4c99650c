// The Cortex-M3 spot firmware under qemu-system-arm (mps2-an385): its UART0, read from a pty, carries a
// valid spot-protocol stream and takes commands.
import { spawn } from 'node:child_process';
import test from 'ava';
import { SerialPort } from 'serialport';
import { createJsonDecoder, createPbDecoder, createPbEncoder, type SpotEvent } from '../../gateway/src/protocol/index.js';
import { waitFor, within } from '../helpers/gateway.js';
import { firmwareBinary } from './spot-process.js';

interface Board {
  events: SpotEvent[];
  rejected: string[];
  write(bytes: Uint8Array | string): Promise<void>;
  exited: Promise<number | string>;
  console(): string;
}

/** Boots spot.elf paused (-S), opens UART0's pty, then lets the CPU run, so no byte is lost. */
async function bootBoard(t: { teardown(fn: () => unknown): void }, encoding: 'json' | 'pb', serial: number): Promise<Board> {
  const elf = firmwareBinary('mps2');
  const qemu = spawn(
    'qemu-system-arm',
    ['-M', 'mps2-an385', '-display', 'none', '-S', '-monitor', 'stdio', '-serial', 'pty',
      '-semihosting-config', 'enable=on,target=native', '-kernel', elf,
      '-append', `--serial ${serial} --encoding ${encoding} --run-seconds 8`],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  qemu.stdout.on('data', (d: Buffer) => (output += d.toString()));
  qemu.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => qemu.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  t.teardown(() => {
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
  });
  const ptyPath = await waitFor(() => /redirected to (\/dev\/pts\/\d+)/.exec(output)?.[1], 10000, `QEMU to print its pty (${output})`);

  const decoder = encoding === 'json' ? createJsonDecoder() : createPbDecoder();
  const events: SpotEvent[] = [];
  const rejected: string[] = [];
  const port = new SerialPort({ path: ptyPath, baudRate: 115200 });
  t.teardown(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
  await within(new Promise<void>((resolve, reject) => port.once('open', resolve).once('error', reject)), 5000, `open ${ptyPath}`);
  port.on('data', (chunk: Buffer) => {
    for (const item of decoder.push(chunk)) {
      if (item.kind === 'event') events.push(item.event);
      else rejected.push(item.rejected.reason);
    }
  });
  qemu.stdin.write('cont\n');
  return {
    events,
    rejected,
    write: (bytes) => new Promise<void>((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : port.drain(() => resolve())))),
    exited,
    console: () => output,
  };
}

for (const encoding of ['json', 'pb'] as const) {
  test.serial(`Cortex-M3 build on qemu-system-arm streams a valid ${encoding} spot protocol on UART0 and applies ten commands in turn`, async (t) => {
    const serial = encoding === 'json' ? 6001 : 6002;
    const board = await bootBoard(t, encoding, serial);
    await waitFor(() => board.events.filter((e) => e.resource === 'spot' && e.action === 'update').length >= 1, 15000, 'an alive signal');
    t.deepEqual(
      board.events.slice(0, 2).map((e) => `${e.resource} ${e.action}`),
      ['spot create', 'config create'],
    );
    t.is(board.events[0]!.data.spot_id, serial);
    t.is(board.events[1]!.data.rfid_power_dbm, 27);
    t.deepEqual(board.events.find((e) => e.resource === 'spot' && e.action === 'update')!.data, { online: true });
    t.true(board.events.some((e) => e.resource === 'presence' && e.action === 'create'), 'the built-in scenario runs');

    // Ten commands in turn, each sent once the previous one is reported: the board's ring holds 4 events,
    // and a config update event shows the values at the time it is encoded (docs/firmware.md).
    const pb = createPbEncoder();
    const updates = () => board.events.filter((e) => e.resource === 'config' && e.action === 'update');
    for (const power of [15, 16, 17, 18, 19, 20, 21, 22, 23, 24]) {
      const command = { resource: 'config', action: 'update', data: { rfid_power_dbm: power } };
      await board.write(encoding === 'json' ? `${JSON.stringify([command.resource, command.action, command.data])}\n\n` : pb.encode(command));
      const applied = await waitFor(() => updates().find((e) => e.data.rfid_power_dbm === power), 10000, `the config update event of rfid_power_dbm ${power}`);
      t.is(applied, updates().at(-1)!, `rfid_power_dbm ${power} is the latest config update`);
    }
    t.is(updates().length, 10, 'one config update event per command');
    t.deepEqual(board.rejected, [], 'every message on the UART is valid');
    t.is(await within(board.exited, 20000, 'the semihosting exit after --run-seconds'), 0, board.console());
    t.regex(board.console(), /stack high-water \d+ of 4096 bytes/);
  });
}
