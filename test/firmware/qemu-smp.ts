// `spot-gateway flash` and `smp ...` run as children against a QEMU board's pty (qemu-board.ts): the
// flashing and serial recovery tests' way of talking SMP to the mps2 spot and its bootloader.
import { runCli, waitFor, within } from '../helpers/gateway.js';
import { DEV_PUB, type Board } from './qemu-board.js';

export interface Flashing {
  code: Promise<number | string>;
  stdout: () => string;
  stderr: () => string;
  kill: () => void;
}

/** Starts `spot-gateway flash` (JSON events) over the board's pty; the port must be handed over first. */
export function flash(board: Board, image: string, ...extra: string[]): Flashing {
  const run = runCli(['flash', '--port', board.pty, '--pub', DEV_PUB, '--target', 'mps2-an385', '--json', '--boot-wait', '20', ...extra, image]);
  return { code: run.exited, stdout: run.stdout, stderr: run.stderr, kill: () => run.child.kill('SIGKILL') };
}

/** Runs `spot-gateway flash` to its end: its exit code, JSON events and stderr. */
export async function flashed(board: Board, image: string, ...extra: string[]): Promise<{ code: number | string; events: Array<Record<string, unknown>>; err: string }> {
  await board.closePort();
  const run = flash(board, image, ...extra);
  const code = await within(run.code, 60000, `flash ${image}`);
  return { code, events: jsonLines(run.stdout()), err: run.stderr() };
}

export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function mustSucceed(code: number | string, err: string): void {
  if (code !== 0) throw new Error(`exit ${code}: ${err}`);
}

/** `spot-gateway smp COMMAND ...` over the board's pty (handed over first); its stdout, once it exited 0. */
export async function smpCommand(board: Board, command: string, ...extra: string[]): Promise<string> {
  await board.closePort();
  const run = runCli(['smp', command, '--port', board.pty, ...extra]);
  mustSucceed(await within(run.exited, 20000, `smp ${command}`), run.stderr());
  return run.stdout();
}

/** The images in the spot's slots, as `spot-gateway smp list` shows them. */
export function listed(board: Board): Promise<string> {
  return smpCommand(board, 'list');
}

/** `spot-gateway smp reset`: a guest reset, asked for over SMP. */
export function smpReset(board: Board, ...extra: string[]): Promise<string> {
  return smpCommand(board, 'reset', ...extra);
}

/**
 * Starts `spot-gateway smp recover` over the board's pty and resolves once it asks for the reset: its
 * echo requests are going out. The test lets go of the pty only then: QEMU stops reading a pty nobody
 * holds and looks for a new holder once a second, which a window of 100 ms at reset would miss. For a
 * board whose CPU is stopped: nothing comes out meanwhile for the test's end to take.
 * `done()` waits for its exit code (bounded).
 */
export async function recovering(board: Board, ...extra: string[]): Promise<{ done: () => Promise<number | string>; stdout: () => string; stderr: () => string }> {
  const run = runCli(['smp', 'recover', '--port', board.pty, ...extra]);
  await waitFor(() => run.stderr().includes('reset or power-cycle the spot now') || run.child.exitCode !== null, 20000, `smp recover to start (${run.stderr()})`);
  await board.closePort();
  return { done: () => within(run.exited, 60000, 'smp recover'), stdout: run.stdout, stderr: run.stderr };
}
