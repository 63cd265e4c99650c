// make bench-flash: an image upload to the mps2 spot under qemu-system-arm over UART0's pty, with the
// gateway's SMP client against the spot's own SMP server (docs/smp.md), and its ceiling: what the
// emulated UART carries into the guest and back per second (a UART echo firmware on the same pty).
// Prints, last:
//   flash: image_bytes=<n> seconds=<s> bytes_per_s=<n> payload_efficiency=<r> resume_ok=<0|1>
// and before it: flash-ceiling: uart_bytes_per_s=<n> ratio=<bytes_per_s / uart_bytes_per_s>
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { parseImage, TLV, tlvsOfType } from '../../../gateway/src/firmware/image-format.js';
import { SmpClient, type SmpPort } from '../../../gateway/src/smp/client.js';
import { imageState, mcumgrParams } from '../../../gateway/src/smp/commands.js';
import { uploadImage } from '../../../gateway/src/smp/upload.js';
import { waitFor, within } from '../../helpers/gateway.js';
import { built, reportedVersion, signApp, startBoard, writeFlash } from '../../firmware/qemu-board.js';

// The echo goes in request-sized pieces, each awaited, as SMP's requests and answers do (one write
// of it all would only measure the pty's buffers).
const ECHO_CHUNK = 2048;
const ECHO_BYTES = 128 * 1024;
const cleanups: Array<() => unknown> = [];
const teardown = { teardown: (fn: () => unknown) => void cleanups.push(fn) };

async function openPort(pty: string): Promise<SerialPort> {
  const port = new SerialPort({ path: pty, baudRate: 115200 });
  await within(new Promise<void>((resolve, reject) => port.once('open', resolve).once('error', reject)), 5000, `open ${pty}`);
  cleanups.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
  return port;
}

/** Bytes the emulated UART carries into the guest and back (echo.elf echoes every byte), both ways counted. */
async function uartCeiling(): Promise<{ bytes: number; seconds: number }> {
  const qemu = spawn('qemu-system-arm', ['-M', 'mps2-an385', '-display', 'none', '-S', '-monitor', 'stdio', '-serial', 'pty',
    '-kernel', built('mps2-echo/echo.elf')], { stdio: ['pipe', 'pipe', 'pipe'] });
  cleanups.push(() => qemu.kill('SIGKILL'));
  let output = '';
  qemu.stdout.on('data', (d: Buffer) => (output += d.toString()));
  qemu.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const pty = await waitFor(() => /redirected to (\/dev\/pts\/\d+)/.exec(output)?.[1], 10000, `QEMU to print its pty (${output})`);
  const port = await openPort(pty);
  let received = 0;
  let text = '';
  let target = Infinity;
  let reached: () => void = () => undefined;
  port.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (text.length < 64) text += chunk.toString('latin1');
    if (received >= target) reached();
  });
  qemu.stdin.write('cont\n');
  await waitFor(() => text.includes('echo: ready\n'), 10000, 'the echo firmware');
  received = 0;
  const data = Buffer.alloc(ECHO_CHUNK, 0x55);
  const started = process.hrtime.bigint();
  for (let sent = ECHO_CHUNK; sent <= ECHO_BYTES; sent += ECHO_CHUNK) {
    const back = new Promise<void>((resolve) => {
      target = sent;
      reached = resolve;
    });
    port.write(data);
    await within(back, 10000, `the echo of ${sent} bytes (${received})`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  qemu.kill('SIGKILL');
  return { bytes: 2 * ECHO_BYTES, seconds };
}

function imageHash(image: Buffer): Buffer {
  const parsed = parseImage(image);
  if (!parsed.ok) throw new Error('unparsable image');
  return Buffer.from(tlvsOfType(parsed.image.unprotectedArea, TLV.SHA256)[0]!.value);
}

/** The SMP bytes on the line both ways: everything written, and the received lines that are SMP frames. */
function counted(port: SerialPort): { port: SmpPort; bytes: () => number; reset: () => void } {
  let written = 0;
  let read = 0;
  let atStart = true;
  let inFrame = false;
  port.on('data', (chunk: Buffer) => {
    for (const b of chunk) {
      if (atStart) inFrame = b === 0x06 || b === 0x04;
      atStart = b === 0x0a;
      if (inFrame) read++;
    }
  });
  const wrapped: SmpPort = {
    write: (data: Buffer) => {
      written += data.length;
      return port.write(data);
    },
    on: (event, listener) => port.on(event, listener),
    off: (event, listener) => port.off(event, listener),
  };
  return { port: wrapped, bytes: () => written + read, reset: () => (written = read = 0) };
}

class Cut extends Error {}

async function main(): Promise<void> {
  const ceiling = await uartCeiling();
  const uartRate = ceiling.bytes / ceiling.seconds;
  console.log(`uart: ${ceiling.bytes / 2} bytes echoed in ${ECHO_CHUNK}-byte pieces in ${ceiling.seconds.toFixed(2)} s (${ceiling.bytes} bytes on the line)`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-flash-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const a = signApp('mps2/spot-slot.bin', '1.0.0');
  const b = signApp('mps2/spot-slot.bin', '2.0.0');
  const c = signApp('mps2/spot-slot.bin', '3.0.0');
  writeFlash(path.join(dir, 'flash.bin'), a);
  const board = await startBoard(teardown, dir);
  console.log(`board: running ${await reportedVersion(board)}`);
  await board.closePort();
  const line = counted(await openPort(board.pty));
  let client = new SmpClient(line.port);
  const params = await mcumgrParams(client);
  if (!params.ok || !params.value) throw new Error('no mcumgr params');
  line.reset();
  const started = process.hrtime.bigint();
  const upload = await uploadImage(client, b, { bufSize: params.value.bufSize });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!upload.ok) throw new Error(`upload: ${upload.reason} ${upload.detail}`);
  const wire = line.bytes();
  const state = await imageState(client);
  const landed = state.ok && state.value.some((s) => s.slot === 1 && s.hash?.equals(imageHash(b)));
  if (!landed) throw new Error('after the upload slot 1 does not hold the image');
  const rate = b.length / seconds;
  console.log(`flash: ${upload.value.requests} requests of up to ${params.value.bufSize} bytes, ${wire} bytes on the line`);

  // Resume: another image, the link cut at half of it (the client dropped), a new client goes on.
  let resumeOk = 0;
  let cut: unknown = null;
  try {
    await uploadImage(client, c, {
      bufSize: params.value.bufSize,
      onProgress: (p) => {
        if (p.off >= c.length / 2) throw new Cut();
      },
    });
  } catch (err) {
    cut = err;
  }
  client.close();
  client = new SmpClient(line.port);
  const resumed = await uploadImage(client, c, { bufSize: params.value.bufSize });
  const after = await imageState(client);
  if (cut instanceof Cut && resumed.ok && resumed.value.resumedFrom > 0 && after.ok && after.value.some((s) => s.slot === 1 && s.hash?.equals(imageHash(c)))) {
    resumeOk = 1;
    console.log(`resume: cut at half of ${c.length} bytes, resumed from offset ${resumed.value.resumedFrom}`);
  }
  client.close();
  console.log(`flash-ceiling: uart_bytes_per_s=${Math.round(uartRate)} ratio=${(rate / uartRate).toFixed(2)}`);
  console.log(`flash: image_bytes=${b.length} seconds=${seconds.toFixed(2)} bytes_per_s=${Math.round(rate)} payload_efficiency=${(b.length / wire).toFixed(2)} resume_ok=${resumeOk}`);
}

try {
  await main();
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
