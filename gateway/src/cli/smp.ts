// `spot-gateway smp echo|list|params|info|reset|recover`, `flash` and `ports` (docs/smp.md): the edge where the
// serial port is opened and the image file read; the work is done in gateway/src/smp/.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { exitCodeOf } from '../firmware/image-failures.js';
import { DEFAULT_TARGET } from '../firmware/image-sign.js';
import { verifyImage } from '../firmware/image-verify.js';
import { readPublicKey } from '../firmware/keys.js';
import { SmpClient } from '../smp/client.js';
import { BOOT_MODE, echo, imageState, mcumgrParams, osInfo, reset, type ImageSlotState } from '../smp/commands.js';
import { FLASH_EXIT_CODES, type FlashFailureReason } from '../smp/flash-failures.js';
import { flashImage } from '../smp/flasher.js';
import { enterRecovery, type RecoverEvent } from '../smp/recover.js';
import { flashReporter } from './flash-progress.js';
import type { CliIo } from './index.js';
import { byIdFirst, listSerialPorts, openSerialPort, type ListedPort, type OpenedPort, type PortOpener } from './serial.js';

const EXIT_USAGE = 2;
const EXIT_UNREADABLE = 3;

const PORT_OPTIONS_HELP = `  -p, --port PATH     the serial port (see spot-gateway ports)
  -b, --baud N        baud rate (default 115200)
      --timeout MS    how long one try waits for an answer (default 2000)
      --tries N       tries per request before giving up (default 3)
  -h, --help          this help`;

export const SMP_HELP = `Usage: spot-gateway smp <command> --port PATH [options]

SMP (MCUmgr) over the spot's serial port (docs/smp.md):
  smp echo [TEXT]    the device answers TEXT (default "hello")
  smp list           image slots: version, hash, active/confirmed/pending
  smp params         the device's SMP buffer size and count
  smp info           what the device says about itself (OS/application info)
  smp reset          restart the device
  smp reset --bootloader   restart into the bootloader's serial recovery (SMP boot_mode 1)
  smp recover        into the bootloader's serial recovery, even with an image that hangs:
                     sends SMP echo every few ms while you reset or power-cycle the spot,
                     until its bootloader answers (a running image that answers is asked
                     to reset into it); then flash --upload-only puts an image there

Options:
${PORT_OPTIONS_HELP}
      --wait S        smp recover: how long to go on before giving up (default 60)
      --json          machine-readable output

Exit codes: 0 ok, 2 usage, 30 the port cannot be opened, 31 no answer (recover: none
within --wait), 32 the device refused the command, 36 an answer that is not SMP as specified.
`;

export const FLASH_HELP = `Usage: spot-gateway flash --port PATH --pub KEY.pub [--test|--confirm|--upload-only] IMAGE

Checks IMAGE (as image verify: signature, key, target, hash) before anything is sent,
reads the device's SMP buffer, uploads to the secondary slot (resuming an interrupted
upload from the offset the device reports), checks the slot's hash, marks it for a test
boot, resets, waits for the new version to report itself and confirms it.
  --confirm       all of the above (the default)
  --test          leave the new image on trial: the next reset goes back to the old one
  --upload-only   stop once the slot holds the image (any MCUboot/Zephyr device)

Options:
${PORT_OPTIONS_HELP}
  -k, --pub KEY.pub   public key the image must be signed with (or the name with .pem added)
  -t, --target NAME   the target the image must be for (default ${DEFAULT_TARGET})
      --boot-wait S   how long to wait for the new image to report itself (default 60)
      --json          one JSON object per step and per progress report on stdout

Exit codes: 0 done; 2 usage; 3 a file cannot be read; 10..21 the image is refused
(as image verify); 30 the port cannot be opened; 31 no answer after the tries; 32 the
device refused a command; 33 the device refused the upload; 34 the slot does not hold
the image after the upload; 35 the new image did not boot (reverted); 36 a bad answer.
`;

export const PORTS_HELP = `Usage: spot-gateway ports [--json]

Lists the serial ports, those with a stable /dev/serial/by-id name first.
`;

const PORT_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  port: { type: 'string', short: 'p' },
  baud: { type: 'string', short: 'b' },
  timeout: { type: 'string' },
  tries: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

type Values = Record<string, string | boolean | undefined>;

function fail(io: CliIo, message: string, code: number): number {
  io.err(`spot-gateway: ${message}\n`);
  return code;
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>): { values: Values; positionals: string[] } | string {
  try {
    const parsed = parseArgs({ args, allowPositionals: true, options });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (err) {
    return (err as Error).message;
  }
}

function positiveInt(text: string | boolean | undefined, fallback: number, name: string): number | string {
  if (text === undefined) return fallback;
  if (typeof text !== 'string' || !/^\d+$/.test(text) || Number(text) <= 0) return `${name} "${String(text)}" is not a positive whole number`;
  return Number(text);
}

interface Session {
  client: SmpClient;
  port: OpenedPort['port'];
  close(): Promise<void>;
}

async function connect(io: CliIo, values: Values, opener: PortOpener): Promise<Session | number> {
  if (typeof values.port !== 'string') return fail(io, 'needs --port PATH (see spot-gateway ports)', EXIT_USAGE);
  const baud = positiveInt(values.baud, 115200, '--baud');
  const timeoutMs = positiveInt(values.timeout, 2000, '--timeout');
  const tries = positiveInt(values.tries, 3, '--tries');
  for (const v of [baud, timeoutMs, tries]) if (typeof v === 'string') return fail(io, v, EXIT_USAGE);
  const opened = await opener(values.port, baud as number);
  if (!opened.ok) return fail(io, opened.reason, FLASH_EXIT_CODES['port-unavailable']);
  const client = new SmpClient(opened.opened.port, { timeoutMs: timeoutMs as number, tries: tries as number });
  return {
    client,
    port: opened.opened.port,
    close: async () => {
      client.close();
      await opened.opened.close();
    },
  };
}

function slotLine(s: ImageSlotState): string {
  const flags = (['active', 'confirmed', 'pending', 'permanent', 'bootable'] as const).filter((f) => s[f]).join(' ');
  return `image ${s.image} slot ${s.slot}: ${s.version}  ${flags || '-'}  hash ${s.hash?.toString('hex') ?? 'none'}`;
}

const hexed = (_key: string, value: unknown): unknown => (value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value);

/** Runs `smp <command> ...` (args after "smp"); resolves with the exit code. */
export async function runSmpCli(args: string[], io: CliIo, opener: PortOpener = openSerialPort): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(SMP_HELP);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (!['echo', 'list', 'params', 'info', 'reset', 'recover'].includes(name)) return fail(io, `unknown command "smp ${name}"\n\n${SMP_HELP}`, EXIT_USAGE);
  const own: NonNullable<ParseArgsConfig['options']> = name === 'reset' ? { bootloader: { type: 'boolean' } } : name === 'recover' ? { wait: { type: 'string' } } : {};
  const parsed = parse(rest, { ...PORT_OPTIONS, ...own });
  if (typeof parsed === 'string') return fail(io, `smp ${name}: ${parsed}\n\n${SMP_HELP}`, EXIT_USAGE);
  if (parsed.values.help) {
    io.out(SMP_HELP);
    return 0;
  }
  if (parsed.positionals.length > (name === 'echo' ? 1 : 0)) return fail(io, `smp ${name}: unexpected "${parsed.positionals.join(' ')}"`, EXIT_USAGE);
  const waitS = positiveInt(parsed.values.wait, 60, '--wait');
  if (typeof waitS === 'string') return fail(io, waitS, EXIT_USAGE);
  const session = await connect(io, parsed.values, opener);
  if (typeof session === 'number') return session;
  const json = parsed.values.json === true;
  try {
    const print = (text: string, value: unknown): void => io.out(json ? `${JSON.stringify(value, hexed)}\n` : `${text}\n`);
    const failed = (failure: { reason: FlashFailureReason | 'closed'; detail: string }): number =>
      fail(io, `smp ${name}: ${failure.detail}`, FLASH_EXIT_CODES[failure.reason === 'closed' ? 'no-answer' : failure.reason]);
    if (name === 'echo') {
      const r = await echo(session.client, parsed.positionals[0] ?? 'hello');
      if (!r.ok) return failed(r);
      print(r.value, { echo: r.value });
    } else if (name === 'list') {
      const r = await imageState(session.client);
      if (!r.ok) return failed(r);
      print(r.value.map(slotLine).join('\n') || 'no images', { images: r.value });
    } else if (name === 'params') {
      const r = await mcumgrParams(session.client);
      if (!r.ok) return failed(r);
      const text = r.value ? `buf_size ${r.value.bufSize}, buf_count ${r.value.bufCount}` : 'the device does not offer mcumgr params (small chunks will be used)';
      print(text, r.value);
    } else if (name === 'info') {
      const r = await osInfo(session.client);
      if (!r.ok) return failed(r);
      print(r.value, { info: r.value });
    } else if (name === 'recover') {
      const r = await enterRecovery(session.port, session.client, { waitMs: waitS * 1000, onEvent: recoverReporter(io, String(parsed.values.port), waitS) });
      if (!r.ok) return failed(r);
      print(['serial recovery: the bootloader answers (spot-gateway flash --upload-only puts an image there)', ...r.images.map(slotLine)].join('\n'), { recovery: true, images: r.images });
    } else {
      const r = await reset(session.client, false, parsed.values.bootloader === true ? BOOT_MODE.bootloader : undefined);
      if (!r.ok) return failed(r);
      print(r.value.answered ? 'reset' : 'reset sent; no answer (the device may have restarted before answering)', r.value);
    }
    return 0;
  } finally {
    await session.close();
  }
}

/** What `smp recover` tells the technician on stderr while it goes on. */
function recoverReporter(io: CliIo, port: string, waitS: number): (event: RecoverEvent) => void {
  return (event) => {
    if (event.kind === 'sending') io.err(`smp recover: sending SMP echo on ${port} every ${event.intervalMs} ms: reset or power-cycle the spot now (waiting up to ${waitS} s)\n`);
    else if (event.kind === 'image-answers') io.err(`smp recover: the running image ${event.version} answers, not the bootloader\n`);
    else io.err('smp recover: asked the running image to reset into serial recovery (boot_mode 1)\n');
  };
}

const FLASH_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  ...PORT_OPTIONS,
  pub: { type: 'string', short: 'k' },
  target: { type: 'string', short: 't' },
  'boot-wait': { type: 'string' },
  test: { type: 'boolean' },
  confirm: { type: 'boolean' },
  'upload-only': { type: 'boolean' },
};

function readKey(io: CliIo, given: string): ReturnType<typeof readPublicKey> {
  for (const file of [given, `${given}.pem`]) {
    let pem: Buffer;
    try {
      pem = readFileSync(path.resolve(io.cwd, file));
    } catch {
      continue;
    }
    const key = readPublicKey(pem);
    return key.ok ? key : { ok: false, reason: `${file}: ${key.reason}` };
  }
  return { ok: false, reason: `cannot read the key ${given} (nor ${given}.pem)` };
}

/** Runs `flash ...` (args after "flash"); resolves with the exit code. */
export async function runFlashCli(args: string[], io: CliIo, opener: PortOpener = openSerialPort): Promise<number> {
  const parsed = parse(args, FLASH_OPTIONS);
  if (typeof parsed === 'string') return fail(io, `flash: ${parsed}\n\n${FLASH_HELP}`, EXIT_USAGE);
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(FLASH_HELP);
    return 0;
  }
  if (positionals.length !== 1) return fail(io, `flash takes one IMAGE\n\n${FLASH_HELP}`, EXIT_USAGE);
  const modes = (['test', 'confirm', 'upload-only'] as const).filter((m) => values[m] === true);
  if (modes.length > 1) return fail(io, `flash: --${modes.join(' and --')} exclude each other`, EXIT_USAGE);
  if (typeof values.pub !== 'string') return fail(io, `flash needs --pub KEY.pub: the image is checked before anything is sent\n\n${FLASH_HELP}`, EXIT_USAGE);
  const bootWait = positiveInt(values['boot-wait'], 60, '--boot-wait');
  if (typeof bootWait === 'string') return fail(io, bootWait, EXIT_USAGE);
  const key = readKey(io, values.pub);
  if (!key.ok) return fail(io, key.reason, EXIT_UNREADABLE);
  const file = positionals[0]!;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.resolve(io.cwd, file));
  } catch (err) {
    return fail(io, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT_UNREADABLE);
  }
  const verify = { publicKey: key.key, expectedTarget: (values.target as string | undefined) ?? DEFAULT_TARGET };
  // Refused before the port is even opened; flashImage checks again, for its other callers.
  const checked = verifyImage(bytes, verify);
  if (!checked.ok) return fail(io, `${file}: ${checked.reason}: ${checked.detail}`, exitCodeOf(checked.reason));
  const session = await connect(io, values, opener);
  if (typeof session === 'number') return session;
  const style = values.json ? 'json' : io.tty ? 'tty' : 'lines';
  try {
    const result = await flashImage(
      session.client,
      bytes,
      verify,
      { mode: (modes[0] ?? 'confirm'), bootWaitMs: bootWait * 1000, onEvent: flashReporter(io, style) },
    );
    if (result.ok) {
      const state = result.confirmed ? 'running, confirmed' : result.booted ? 'running on trial (not confirmed)' : 'uploaded, not marked';
      io.out(values.json ? `${JSON.stringify({ kind: 'done', ...result })}\n` : `${file}: ${result.version} ${state}\n`);
      return 0;
    }
    if ('imageRefused' in result) return fail(io, `${file}: ${result.reason}: ${result.detail}`, exitCodeOf(result.reason));
    return fail(io, `flash ${file}: ${result.reason}: ${result.detail}`, FLASH_EXIT_CODES[result.reason]);
  } finally {
    await session.close();
  }
}

/** Runs `ports`; resolves with the exit code. */
export async function runPortsCli(args: string[], io: CliIo, list: () => Promise<ListedPort[]> = listSerialPorts): Promise<number> {
  const parsed = parse(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (typeof parsed === 'string' || parsed.positionals.length) return fail(io, `ports: ${typeof parsed === 'string' ? parsed : 'takes no arguments'}\n\n${PORTS_HELP}`, EXIT_USAGE);
  if (parsed.values.help) {
    io.out(PORTS_HELP);
    return 0;
  }
  const ports = byIdFirst(await list());
  if (parsed.values.json) io.out(`${JSON.stringify(ports)}\n`);
  else if (!ports.length) io.out('no serial ports found\n');
  else for (const p of ports) io.out(`${p.byId ?? p.path}${p.byId ? ` -> ${p.path}` : ''}${p.description ? `  (${p.description})` : ''}\n`);
  return 0;
}
