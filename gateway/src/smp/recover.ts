// enterRecovery(): the technician's way into a spot's serial recovery (docs/smp.md#serial-recovery-at-reset-smp-recover,
// docs/bootloader.md#serial-recovery). SMP echo requests go out one every few milliseconds, paced by the
// port (the next one is written once the last one has left), until one is answered: the bootloader's
// window at reset answers one when the spot is reset or power-cycled meanwhile. The image list then tells
// the bootloader (no image active) from a running image, which is asked once to reset into the recovery
// (boot_mode 1) while the echoes go on.
import type { SmpClient, SmpPort } from './client.js';
import { BOOT_MODE, imageState, reset, type ImageSlotState } from './commands.js';
import type { FlashFailure } from './flash-failures.js';
import { decodeMessage, encodeMessage, GROUP, OP, OS_COMMAND, SMP_V1 } from './message.js';
import { encodePacket, SerialFrameReader } from './serial-frame.js';

/** What a port may offer besides SmpPort: waiting until written bytes have left (serialport's drain). */
export interface DrainablePort extends SmpPort {
  drain?(callback: () => void): unknown;
}

export type RecoverEvent =
  | { kind: 'sending'; intervalMs: number }
  | { kind: 'image-answers'; version: string }
  | { kind: 'asked-bootloader' };

export interface RecoverOptions {
  /** How long to go on before giving up (the technician resets the spot meanwhile). */
  waitMs: number;
  /** Pause between two echo requests once the last one has left (default 5 ms). */
  intervalMs?: number;
  onEvent?: (event: RecoverEvent) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type RecoverResult = { ok: true; images: ImageSlotState[] } | FlashFailure;

/** The echo text; a number per round tells its answers from those of the round before. */
const ECHO_TEXT = 'recover';

export async function enterRecovery(port: DrainablePort, client: SmpClient, options: RecoverOptions): Promise<RecoverResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const emit = options.onEvent ?? (() => undefined);
  const intervalMs = options.intervalMs ?? 5;
  const deadline = now() + options.waitMs;
  let round = 0;
  let answered = false;
  const reader = new SerialFrameReader((event) => {
    if (event.kind !== 'packet') return;
    const decoded = decodeMessage(event.body);
    if (!decoded.ok) return;
    const { header, body } = decoded.message;
    const echoAnswer = header.op === OP.writeResponse && header.group === GROUP.os && header.id === OS_COMMAND.echo;
    if (echoAnswer && body.r === `${ECHO_TEXT} ${round}`) answered = true;
  });
  const listener = (chunk: Buffer): void => reader.push(chunk);
  port.on('data', listener);
  let asked = false;
  let seq = 0;
  emit({ kind: 'sending', intervalMs });
  try {
    while (now() < deadline) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the reader's callback sets it
      if (!answered) {
        const header = { op: OP.write, version: SMP_V1, flags: 0, group: GROUP.os, seq, id: OS_COMMAND.echo } as const;
        seq = (seq + 1) & 0xff;
        port.write(encodePacket(encodeMessage(header, { d: `${ECHO_TEXT} ${round}` })));
        await drained(port, deadline - now());
        await sleep(intervalMs);
        continue;
      }
      const state = await imageState(client);
      if (!state.ok) return { ok: false, reason: state.reason === 'closed' ? 'no-answer' : state.reason, detail: `image state after an echo was answered: ${state.detail}` };
      const running = state.value.find((s) => s.active);
      if (!running) return { ok: true, images: state.value };
      emit({ kind: 'image-answers', version: running.version });
      round++;
      answered = false;
      if (asked) continue;
      const r = await reset(client, false, BOOT_MODE.bootloader);
      if (!r.ok) {
        const reason = r.reason === 'closed' ? 'no-answer' : r.reason;
        return { ok: false, reason, detail: `the running image ${running.version} answers but refused to reset into serial recovery: ${r.detail}` };
      }
      asked = true;
      emit({ kind: 'asked-bootloader' });
    }
    const seconds = Math.round(options.waitMs / 1000);
    return { ok: false, reason: 'no-answer', detail: `no echo answered in ${seconds} s: is the port on the spot's UART0, and was the spot reset or power-cycled in that time?` };
  } finally {
    port.off('data', listener);
  }
}

/** Until the bytes written have left (bounded by `ms`: a device that reads nothing holds them). */
function drained(port: DrainablePort, ms: number): Promise<void> {
  const drain = port.drain?.bind(port);
  if (!drain || ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    drain(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
