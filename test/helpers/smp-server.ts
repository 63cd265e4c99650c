// An SMP server stand-in for tests: the device end of a port (an in-memory pair or a pty), with
// echo, mcumgr params, reset, image state read/write and upload with offset resume into an
// in-memory secondary slot, and MCUboot's test/confirm/revert on reset. Faults are injected into
// its responses: lost, duplicated, corrupted, console lines in between, silence.
import { createHash } from 'node:crypto';
import { parseImage, tlvsOfType, TLV } from '../../gateway/src/firmware/image-format.js';
import type { SmpPort } from '../../gateway/src/smp/client.js';
import { decodeMessage, encodeMessage, GROUP, IMAGE_COMMAND, OP, OS_COMMAND, SMP_V2, type SmpBody, type SmpHeader } from '../../gateway/src/smp/message.js';
import { encodePacket, SerialFrameReader } from '../../gateway/src/smp/serial-frame.js';
import { mcumgrVersionString } from '../../gateway/src/smp/version.js';

/** The image slot capacity of the mps2 map: 31 sectors of 4 KiB (docs/bootloader.md). */
export const SLOT_CAPACITY = 31 * 4096;

/** What the device keeps across a cut link (and, for this stand-in, across a restart of it). */
export interface DeviceFlash {
  primary: Buffer;
  /** The primary image confirmed itself (image_ok). */
  primaryConfirmed: boolean;
  secondary: Buffer | null;
  /** The secondary is marked: 'test' for one trial boot, 'permanent', or nothing. */
  request: 'test' | 'permanent' | null;
  /** An upload under way: its length, SHA-256 and how far it got. */
  upload: { len: number; sha: Buffer; off: number } | null;
}

export function freshFlash(primary: Buffer): DeviceFlash {
  return { primary, primaryConfirmed: true, secondary: null, request: null, upload: null };
}

export interface Faults {
  /** The next n responses are lost. */
  dropResponses?: number;
  /** The next n responses are sent twice. */
  duplicateResponses?: number;
  /** The next n responses have one base64 character changed (their CRC no longer matches). */
  corruptResponses?: number;
  /** A console line goes out before every response, and one in the middle of multi-line ones. */
  consoleNoise?: boolean;
  /** Every nth response is lost / sent twice / corrupted, all through the exchange. */
  loseEvery?: number;
  duplicateEvery?: number;
  corruptEvery?: number;
  /** Once the upload's offset reaches this, the device answers nothing more (a cut cable). */
  silentFromUploadOffset?: number;
  /** The image swapped in by a test reset does not start: the next boot reverts it at once. */
  newImageFailsToBoot?: boolean;
}

export interface StandInOptions {
  bufSize?: number;
  bufCount?: number;
  lineLength?: number;
  faults?: Faults;
  /** The mcumgr params command is missing (an older device): answers rc 8. */
  noParams?: boolean;
  /** No bootloader serial recovery to reset into: reset with boot_mode 1 answers rc 8. */
  noBootloader?: boolean;
}

function slotEntry(bytes: Buffer, slot: number, flags: { active: boolean; confirmed: boolean; pending: boolean; permanent: boolean }): SmpBody | null {
  const parsed = parseImage(bytes);
  if (!parsed.ok) return null;
  const hash = tlvsOfType(parsed.image.unprotectedArea, TLV.SHA256)[0];
  return { image: 0, slot, version: mcumgrVersionString(parsed.image.header.version), hash: hash?.value ?? new Uint8Array(), bootable: true, ...flags };
}

export class SmpServerStandIn {
  readonly requests: SmpHeader[] = [];
  readonly dropped: string[] = [];
  resets = 0;
  /** The `boot_mode` of each reset request (undefined when it had none). */
  readonly resetBootModes: unknown[] = [];
  responses = 0;
  silent = false;
  /** In the bootloader's serial recovery: no image is active (a reset with boot_mode 1 gets there). */
  recovery = false;
  private readonly reader = new SerialFrameReader((event) => {
    if (event.kind === 'packet') this.onPacket(event.body);
    else if (event.kind === 'dropped') this.dropped.push(event.reason);
  });
  private readonly listener = (chunk: Buffer): void => this.reader.push(chunk);
  readonly faults: Faults;

  constructor(
    private readonly port: SmpPort,
    readonly flash: DeviceFlash,
    private readonly options: StandInOptions = {},
  ) {
    this.faults = { ...options.faults };
    port.on('data', this.listener);
  }

  detach(): void {
    this.port.off('data', this.listener);
  }

  /** The version the device runs now. */
  runningVersion(): string | null {
    const parsed = parseImage(this.flash.primary);
    return parsed.ok ? mcumgrVersionString(parsed.image.header.version) : null;
  }

  private onPacket(packet: Buffer): void {
    if (this.silent) return;
    if (packet.length > (this.options.bufSize ?? 512)) {
      this.dropped.push(`a request of ${packet.length} bytes, over the buffer`);
      return;
    }
    const decoded = decodeMessage(packet);
    if (!decoded.ok) {
      this.dropped.push(decoded.reason);
      return;
    }
    const { header, body } = decoded.message;
    this.requests.push(header);
    const answer = this.handle(header, body);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- handle() may have made the server silent
    if (this.silent) return;
    const response = encodeMessage({ ...header, op: header.op === OP.read ? OP.readResponse : OP.writeResponse }, answer.body);
    this.send(response);
    answer.after?.();
  }

  private error(header: SmpHeader, group: number, rc: number): SmpBody {
    return header.version === SMP_V2 ? { err: { group, rc } } : { rc };
  }

  private handle(header: SmpHeader, body: SmpBody): { body: SmpBody; after?: () => void } {
    const write = header.op === OP.write;
    if (header.group === GROUP.os) {
      if (header.id === OS_COMMAND.echo && typeof body.d === 'string') return { body: { r: body.d } };
      if (header.id === OS_COMMAND.mcumgrParams && !write) {
        if (this.options.noParams) return { body: { rc: 8 } };
        return { body: { buf_size: this.options.bufSize ?? 512, buf_count: this.options.bufCount ?? 4 } };
      }
      if (header.id === OS_COMMAND.info && !write) return { body: { output: `spot-stand-in ${this.runningVersion()} mps2-an385` } };
      if (header.id === OS_COMMAND.reset && write) {
        this.resetBootModes.push(body.boot_mode);
        if (body.boot_mode === 1 && this.options.noBootloader) return { body: this.error(header, GROUP.os, 8) };
        return {
          body: {},
          after: () => {
            this.reset();
            this.recovery = body.boot_mode === 1;
          },
        };
      }
      return { body: { rc: 8 } };
    }
    if (header.group === GROUP.image) {
      if (header.id === IMAGE_COMMAND.state) return { body: write ? this.writeState(header, body) : this.stateBody() };
      if (header.id === IMAGE_COMMAND.upload && write) return { body: this.upload(header, body) };
    }
    return { body: { rc: 8 } };
  }

  private stateBody(): SmpBody {
    const f = this.flash;
    const images = [slotEntry(f.primary, 0, { active: !this.recovery, confirmed: f.primaryConfirmed, pending: false, permanent: false })];
    if (f.secondary && !f.upload) {
      images.push(slotEntry(f.secondary, 1, { active: false, confirmed: false, pending: f.request !== null, permanent: f.request === 'permanent' }));
    }
    return { images: images.filter((i) => i !== null) };
  }

  private writeState(header: SmpHeader, body: SmpBody): SmpBody {
    const f = this.flash;
    const confirm = body.confirm === true;
    const hash = body.hash instanceof Uint8Array ? Buffer.from(body.hash) : null;
    const hashOf = (bytes: Buffer | null): Buffer | null => {
      const entry = bytes ? slotEntry(bytes, 0, { active: false, confirmed: false, pending: false, permanent: false }) : null;
      return entry ? Buffer.from(entry.hash as Uint8Array) : null;
    };
    if (hash === null || hashOf(f.primary)?.equals(hash)) {
      if (!confirm && hash === null) return this.error(header, GROUP.image, 3);
      f.primaryConfirmed = true;
      return this.stateBody();
    }
    if (!f.secondary || f.upload || !hashOf(f.secondary)?.equals(hash)) return this.error(header, GROUP.image, 3);
    f.request = confirm ? 'permanent' : 'test';
    return this.stateBody();
  }

  private upload(header: SmpHeader, body: SmpBody): SmpBody {
    const f = this.flash;
    const { off, data } = body;
    if (typeof off !== 'number' || !(data instanceof Uint8Array)) return this.error(header, GROUP.image, 3);
    if (off === 0) {
      const len = body.len;
      const sha = body.sha instanceof Uint8Array ? Buffer.from(body.sha) : null;
      if (typeof len !== 'number') return this.error(header, GROUP.image, 3);
      if (len > SLOT_CAPACITY) return this.error(header, GROUP.image, 3);
      if (!f.primaryConfirmed) return this.error(header, GROUP.image, 6);
      if (f.upload && sha && f.upload.sha.equals(sha) && f.upload.len === len) return { off: f.upload.off };
      f.secondary = Buffer.alloc(len, 0xff);
      f.request = null;
      f.upload = { len, sha: sha ?? Buffer.alloc(0), off: 0 };
    }
    const u = f.upload;
    if (!u || !f.secondary) return this.error(header, GROUP.image, 6);
    if (off !== u.off || off + data.length > u.len) return { off: u.off };
    f.secondary.set(data, off);
    u.off += data.length;
    if (this.faults.silentFromUploadOffset !== undefined && u.off >= this.faults.silentFromUploadOffset) {
      this.silent = true;
      return {};
    }
    if (u.off < u.len) return { off: u.off };
    f.upload = null;
    return { off: u.len, match: createHash('sha256').update(f.secondary).digest().equals(u.sha) };
  }

  /** MCUboot's decision at boot: a requested swap, or the revert of an unconfirmed trial. */
  private reset(): void {
    this.resets++;
    const f = this.flash;
    const swap = (): void => {
      const old = f.primary;
      f.primary = f.secondary!;
      f.secondary = old;
    };
    if (f.request && f.secondary) {
      swap();
      f.primaryConfirmed = f.request === 'permanent';
      f.request = null;
      if (!f.primaryConfirmed && this.faults.newImageFailsToBoot) {
        swap();
        f.primaryConfirmed = true;
      }
    } else if (!f.primaryConfirmed && f.secondary) {
      swap();
      f.primaryConfirmed = true;
    }
    if (this.faults.consoleNoise) this.port.write(Buffer.from(`*** booting ${this.runningVersion()} ***\r\n`));
  }

  private send(message: Buffer): void {
    const f = this.faults;
    const n = ++this.responses;
    const every = (k: number | undefined): boolean => k !== undefined && n % k === 0;
    if (f.dropResponses || every(f.loseEvery)) {
      if (f.dropResponses) f.dropResponses--;
      return;
    }
    let frame = encodePacket(message, this.options.lineLength);
    if (f.corruptResponses || every(f.corruptEvery)) {
      if (f.corruptResponses) f.corruptResponses--;
      frame = Buffer.from(frame);
      const at = 10; // inside the header, so the length still holds and only the CRC fails
      frame[at] = frame[at] === 0x41 ? 0x42 : 0x41;
    }
    if (f.consoleNoise) {
      this.port.write(Buffer.from('[00:00:01.000] <inf> spot: console line before a response\r\n'));
      const split = frame.indexOf(0x0a) + 1;
      if (split > 0 && split < frame.length) frame = Buffer.concat([frame.subarray(0, split), Buffer.from('spot: a line between two frames\n'), frame.subarray(split)]);
    }
    this.port.write(frame);
    if (f.duplicateResponses || every(f.duplicateEvery)) {
      if (f.duplicateResponses) f.duplicateResponses--;
      this.port.write(frame);
    }
  }
}
