// flashImage(): the whole serial update of one device over SMP (docs/smp.md#flashing): check the
// image before a byte is sent, size the chunks from the device's buffer, upload with resume, check
// the slot's hash, mark it for a test boot, reset, wait for the new version, confirm.
import type { ImageVersion } from '../firmware/image-format.js';
import { verifyImage, type VerifyRequest } from '../firmware/image-verify.js';
import type { ImageFailure } from '../firmware/image-failures.js';
import type { SmpClient, SmpFailure } from './client.js';
import { imageState, mcumgrParams, reset, setImageState, type ImageSlotState } from './commands.js';
import type { FlashFailure, FlashFailureReason } from './flash-failures.js';
import { chunkSizeFor, uploadImage, type UploadProgress } from './upload.js';
import { mcumgrVersionString } from './version.js';

export type FlashMode = 'confirm' | 'test' | 'upload-only';

export type FlashEvent =
  | { kind: 'image'; version: string; bytes: number; hash: string }
  | { kind: 'params'; bufSize: number | null; chunk: number }
  | { kind: 'already-running'; version: string }
  | { kind: 'resumed'; offset: number; total: number }
  | { kind: 'progress'; progress: UploadProgress }
  | { kind: 'verified'; slot: number }
  | { kind: 'marked'; permanent: boolean }
  | { kind: 'reset' }
  | { kind: 'booted'; version: string }
  | { kind: 'confirmed'; version: string };

export interface FlashOptions {
  mode?: FlashMode;
  /** How long to wait for the new image to report itself after the reset (default 60 s). */
  bootWaitMs?: number;
  /** Pause between image state reads while waiting for the boot (default 500 ms). */
  pollMs?: number;
  onEvent?: (event: FlashEvent) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface FlashOutcome {
  ok: true;
  version: string;
  resumedFrom: number;
  /** What the device runs at the end; false for upload-only. */
  booted: boolean;
  confirmed: boolean;
}

export type FlashResult = FlashOutcome | FlashFailure | (ImageFailure & { imageRefused: true });

function fail(reason: FlashFailureReason, detail: string): FlashFailure {
  return { ok: false, reason, detail };
}

function fromSmp(failure: SmpFailure, what: string): FlashFailure {
  const reason: FlashFailureReason = failure.reason === 'closed' ? 'no-answer' : failure.reason;
  return fail(reason, `${what}: ${failure.detail}`);
}

const active = (slots: ImageSlotState[]): ImageSlotState | undefined => slots.find((s) => s.active && s.image === 0);
const withHash = (slots: ImageSlotState[], hash: Buffer): ImageSlotState | undefined => slots.find((s) => s.hash?.equals(hash));

export async function flashImage(client: SmpClient, bytes: Uint8Array, verify: VerifyRequest, options: FlashOptions = {}): Promise<FlashResult> {
  const mode = options.mode ?? 'confirm';
  const emit = options.onEvent ?? (() => undefined);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const verified = verifyImage(bytes, verify);
  if (!verified.ok) return { ...verified, imageRefused: true };
  const hash = verified.hash;
  const version: ImageVersion = verified.image.header.version;
  const versionText = mcumgrVersionString(version);
  // Bytes after the image (imgtool --pad and its trailer) are not sent: the request is ours to make.
  const image = verified.image.bytes.subarray(0, verified.image.end);
  emit({ kind: 'image', version: versionText, bytes: image.length, hash: hash.toString('hex') });

  const params = await mcumgrParams(client);
  if (!params.ok) return fromSmp(params, 'mcumgr params');
  const before = await imageState(client);
  if (!before.ok) return fromSmp(before, 'image state');
  const running = active(before.value);
  if (mode !== 'upload-only' && running?.hash?.equals(hash)) {
    emit({ kind: 'already-running', version: running.version });
    // On trial from an earlier --test: confirming is all that is left (the device would refuse an upload).
    if (!running.confirmed && mode === 'confirm') return confirmRunning(client, hash, running.version, 0, emit);
    return { ok: true, version: running.version, resumedFrom: 0, booted: true, confirmed: running.confirmed };
  }

  emit({ kind: 'params', bufSize: params.value?.bufSize ?? null, chunk: chunkSizeFor(params.value?.bufSize) });
  let announced = false;
  const uploaded = await uploadImage(client, image, {
    bufSize: params.value?.bufSize ?? null,
    onProgress: (progress) => {
      if (!announced && progress.sent === 0 && progress.off > 0) emit({ kind: 'resumed', offset: progress.off, total: progress.total });
      announced = true;
      emit({ kind: 'progress', progress });
    },
  });
  const after = await imageState(client);
  // A retried last chunk may be refused by a device that finished the upload with the first one
  // (its answer was lost): what the slot holds decides.
  const landed = after.ok ? withHash(after.value, hash) : undefined;
  if (!uploaded.ok && !(landed && !landed.active)) {
    if (uploaded.reason === 'device-error') return fail('upload-refused', `image upload: ${uploaded.detail}`);
    return fromSmp(uploaded, 'image upload');
  }
  if (!after.ok) return fromSmp(after, 'image state after the upload');
  const resumedFrom = uploaded.ok ? uploaded.value.resumedFrom : 0;
  const slot = landed;
  if (!slot || slot.active) {
    const seen = after.value.map((s) => `slot ${s.slot}: ${s.version} ${s.hash?.toString('hex') ?? 'no hash'}`).join('; ');
    return fail('verify-failed', `after the upload no inactive slot holds hash ${hash.toString('hex')} (${seen || 'no slots'})`);
  }
  emit({ kind: 'verified', slot: slot.slot });
  if (mode === 'upload-only') return { ok: true, version: versionText, resumedFrom, booted: false, confirmed: false };

  const marked = await setImageState(client, { hash, confirm: false });
  if (!marked.ok) return fromSmp(marked, 'image state write (test)');
  emit({ kind: 'marked', permanent: false });
  const resetDone = await reset(client);
  if (!resetDone.ok) return fromSmp(resetDone, 'reset');
  emit({ kind: 'reset' });

  const booted = await waitForBoot(client, hash, { deadline: now() + (options.bootWaitMs ?? 60000), pollMs: options.pollMs ?? 500, now, sleep });
  if (!booted.ok) return booted;
  emit({ kind: 'booted', version: booted.value.version });
  if (mode === 'test') return { ok: true, version: booted.value.version, resumedFrom, booted: true, confirmed: false };

  return confirmRunning(client, hash, versionText, resumedFrom, emit);
}

async function confirmRunning(client: SmpClient, hash: Buffer, versionText: string, resumedFrom: number, emit: (event: FlashEvent) => void): Promise<FlashResult> {
  const confirmed = await setImageState(client, { hash, confirm: true });
  if (!confirmed.ok) return fromSmp(confirmed, 'image state write (confirm)');
  const runs = active(confirmed.value);
  if (!runs?.hash?.equals(hash) || !runs.confirmed) return fail('bad-response', `the confirm was answered but the running image is not the confirmed ${versionText}`);
  emit({ kind: 'confirmed', version: runs.version });
  return { ok: true, version: runs.version, resumedFrom, booted: true, confirmed: true };
}

interface BootWait {
  deadline: number;
  pollMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Reads image state until the new image runs, or the old one runs with the new one back in the
 * other slot and no longer pending (the bootloader reverted it), or the deadline passes.
 */
async function waitForBoot(client: SmpClient, hash: Buffer, wait: BootWait): Promise<{ ok: true; value: ImageSlotState } | FlashFailure> {
  let last: SmpFailure | null;
  for (;;) {
    const state = await imageState(client);
    if (state.ok) {
      const running = active(state.value);
      if (running?.hash?.equals(hash)) return { ok: true, value: running };
      const other = withHash(state.value, hash);
      if (running && other && !other.pending) {
        return fail('not-booted', `the device runs ${running.version} again: the new image did not boot and was reverted`);
      }
      last = null;
    } else if (state.reason === 'closed') {
      // Closed under us (a gateway stopping a flash job): nothing will answer any more.
      return fromSmp(state, 'waiting for the new image to boot');
    } else last = state;
    if (wait.now() >= wait.deadline) break;
    await wait.sleep(wait.pollMs);
  }
  if (last) return fromSmp(last, 'waiting for the new image to boot');
  return fail('not-booted', 'the new image did not report itself before the deadline');
}
