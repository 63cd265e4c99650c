// The mps2-an385 spot under qemu-system-arm as the flashing tests and `make bench-flash` use it: the
// bootloader as -kernel, the flash in a host file (docs/bootloader.md, "Flash under QEMU"), UART0 on a
// pty opened before the CPU runs (-S, then `cont` on the monitor), so no byte of the stream is lost.
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { parseVersion } from '../../gateway/src/firmware/image-format.js';
import { signImage } from '../../gateway/src/firmware/image-sign.js';
import { createJsonDecoder, type SpotEvent } from '../../gateway/src/protocol/index.js';
import { waitFor, within, type Teardown } from '../helpers/gateway.js';
import { FIRMWARE_BUILD } from './spot-process.js';

export const FLASH_BYTES = 0x4a000;
export const PRIMARY = 0x8000;
export const SECONDARY = 0x28000;
export const DEV_KEY = path.join(FIRMWARE_BUILD, 'keys/dev.pem');
export const DEV_PUB = path.join(FIRMWARE_BUILD, 'keys/dev.pub.pem');

export function built(file: string): string {
  const full = path.join(FIRMWARE_BUILD, file);
  if (!existsSync(full)) throw new Error(`${full} is not built: run \`make firmware-mps2 firmware-mps2-boot\` first`);
  return full;
}

/** An app binary (firmware/build/mps2/*.bin) signed as the bootloader wants it. */
export function signApp(bin: string, version: string, options: { key?: string; target?: string } = {}): Buffer {
  const v = parseVersion(version);
  if (typeof v === 'string') throw new Error(v);
  const privateKey = createPrivateKey(readFileSync(options.key ?? built('keys/dev.pem')));
  const signed = signImage({ input: readFileSync(built(bin)), version: v, privateKey, target: options.target ?? 'mps2-an385', padHeader: true });
  if (!signed.ok) throw new Error(signed.reason);
  return signed.image;
}

/** A spot's flash file: erased, the image in the primary slot. */
export function writeFlash(file: string, primary: Buffer): void {
  const flash = Buffer.alloc(FLASH_BYTES, 0xff);
  primary.copy(flash, PRIMARY);
  writeFileSync(file, flash);
}

/** Which of the two images each slot holds, byte for byte. */
export function slots(file: string, a: Buffer, b: Buffer): string {
  const flash = readFileSync(file);
  const holds = (at: number, img: Buffer) => flash.subarray(at, at + img.length).equals(img);
  if (holds(PRIMARY, a) && holds(SECONDARY, b)) return 'AB';
  if (holds(PRIMARY, b) && holds(SECONDARY, a)) return 'BA';
  if (holds(PRIMARY, a)) return 'A-';
  return 'neither';
}

export interface Board {
  pty: string;
  /** QEMU's own output: the monitor, and the semihosting lines of the bootloader and the app. */
  output(): string;
  /** The spot-protocol events read while the test held the port. */
  events: SpotEvent[];
  exited: Promise<number | string>;
  /** Hands the pty over (to the flasher). */
  closePort(): Promise<void>;
  openPort(): Promise<void>;
  /** Writes to UART0 (the port must be open): a spot-protocol command, as the gateway sends it. */
  write(bytes: string | Uint8Array): Promise<void>;
  /** A command for QEMU's monitor: `stop` (the CPU), `system_reset`, `cont`. */
  monitor(command: string): void;
  /** `stop` on the monitor, resolved once QEMU says the CPU is paused (a command is only queued when written). */
  stopCpu(): Promise<void>;
  kill(): Promise<void>;
}

/** Boots the bootloader on flash file `flash` (in `dir`), paused until UART0's pty is open. */
export interface BoardOptions {
  /** More of QEMU's -append (the bootloader's and the app's options). */
  append?: string;
  serial?: number;
  /** Called with the open port before the CPU runs: whatever listens from the first byte. */
  beforeRun?: (port: SerialPort) => void;
}

export async function startBoard(t: Teardown, dir: string, options: BoardOptions = {}): Promise<Board> {
  const qemu = spawn(
    'qemu-system-arm',
    ['-M', 'mps2-an385', '-display', 'none', '-S', '-monitor', 'stdio', '-serial', 'pty',
      '-semihosting-config', 'enable=on,target=native', '-kernel', built('mps2-boot/boot.elf'),
      '-append', `--flash flash.bin --serial ${options.serial ?? 7001}${options.append ? ` ${options.append}` : ''}`],
    { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  qemu.stdout.on('data', (d: Buffer) => (output += d.toString()));
  qemu.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => qemu.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const running = () => qemu.exitCode === null && qemu.signalCode === null;
  t.teardown(() => {
    if (running()) qemu.kill('SIGKILL');
  });
  const pty = await waitFor(() => /redirected to (\/dev\/pts\/\d+)/.exec(output)?.[1], 10000, `QEMU to print its pty (${output})`);
  const events: SpotEvent[] = [];
  let port: SerialPort | null = null;
  const closePort = () =>
    new Promise<void>((resolve) => {
      const p = port;
      port = null;
      if (p?.isOpen) p.close(() => resolve());
      else resolve();
    });
  const openPort = async () => {
    const decoder = createJsonDecoder();
    // Not exclusive: a command may open the pty before the test lets go of it, so that QEMU, which
    // stops reading a pty nobody holds and looks again once a second, never loses it (qemu-smp.ts).
    const p = new SerialPort({ path: pty, baudRate: 115200, lock: false });
    await within(new Promise<void>((resolve, reject) => p.once('open', resolve).once('error', reject)), 5000, `open ${pty}`);
    p.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) if (item.kind === 'event') events.push(item.event);
    });
    p.on('error', () => undefined); // the pty goes away with QEMU
    port = p;
    return p;
  };
  t.teardown(closePort);
  const opened = await openPort();
  options.beforeRun?.(opened);
  qemu.stdin.write('cont\n');
  return {
    pty,
    output: () => output,
    events,
    exited,
    closePort,
    openPort: async () => {
      await openPort();
    },
    write: (bytes) => {
      const p = port;
      if (!p) return Promise.reject(new Error('write: the port is closed (handed to the flasher)'));
      return new Promise<void>((resolve, reject) => p.write(bytes, (err) => (err ? reject(err) : p.drain(() => resolve()))));
    },
    monitor: (command) => qemu.stdin.write(`${command}\n`),
    stopCpu: async () => {
      const paused = (): number => output.split('VM status: paused').length - 1;
      const before = paused();
      qemu.stdin.write('stop\ninfo status\n');
      await waitFor(() => paused() > before || undefined, 10000, `QEMU to say the CPU is paused (${output.slice(-300)})`);
    },
    kill: async () => {
      await closePort();
      if (running()) qemu.kill('SIGKILL');
      await within(exited, 5000, 'QEMU to end');
    },
  };
}

/** The version the spot reported in its first `spot create`. */
export async function reportedVersion(board: Board, ms = 15000): Promise<string> {
  const created = await waitFor(() => board.events.find((e) => e.resource === 'spot' && e.action === 'create'), ms, `spot create (${board.output()})`);
  return String(created.data.version);
}
