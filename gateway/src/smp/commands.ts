// The MCUmgr commands the gateway uses, with the CBOR keys of Zephyr's SMP specification
// (docs/smp.md#commands); every answer is checked for its shape before it is believed.
import type { SmpClient, SmpFailure, SmpResult } from './client.js';
import { GROUP, IMAGE_COMMAND, MGMT_ERR_NOT_SUPPORTED, OS_COMMAND, type SmpBody } from './message.js';

export interface McumgrParams {
  bufSize: number;
  bufCount: number;
}

export interface ImageSlotState {
  image: number;
  slot: number;
  version: string;
  hash: Buffer | null;
  bootable: boolean;
  pending: boolean;
  confirmed: boolean;
  active: boolean;
  permanent: boolean;
}

export interface UploadChunk {
  off: number;
  data: Uint8Array;
  /** First chunk only: the whole image's length, SHA-256 (the upload's identity) and image number. */
  len?: number;
  sha?: Uint8Array;
  image?: number;
}

function badResponse(what: string, body: SmpBody): SmpFailure {
  return { ok: false, reason: 'bad-response', detail: `${what}: unexpected answer ${JSON.stringify(body, (_k: string, v: unknown): unknown => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}` };
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export async function echo(client: SmpClient, text: string): Promise<SmpResult<string>> {
  const r = await client.request('write', GROUP.os, OS_COMMAND.echo, { d: text });
  if (!r.ok) return r;
  return typeof r.value.r === 'string' ? { ok: true, value: r.value.r } : badResponse('echo', r.value);
}

/** The device's SMP buffer; null when it does not offer the command (use small chunks then). */
export async function mcumgrParams(client: SmpClient): Promise<SmpResult<McumgrParams | null>> {
  const r = await client.request('read', GROUP.os, OS_COMMAND.mcumgrParams);
  if (!r.ok) return r.reason === 'device-error' && r.rc === MGMT_ERR_NOT_SUPPORTED ? { ok: true, value: null } : r;
  const { buf_size: bufSize, buf_count: bufCount } = r.value;
  return isUint(bufSize) && isUint(bufCount) ? { ok: true, value: { bufSize, bufCount } } : badResponse('mcumgr params', r.value);
}

/** OS/application info (`uname`-like); `format` picks the fields, e.g. "a" for all. */
export async function osInfo(client: SmpClient, format?: string): Promise<SmpResult<string>> {
  const r = await client.request('read', GROUP.os, OS_COMMAND.info, format === undefined ? {} : { format });
  if (!r.ok) return r;
  return typeof r.value.output === 'string' ? { ok: true, value: r.value.output } : badResponse('os info', r.value);
}

/** OS reset's `boot_mode` (MCUmgr): what the device starts into. */
export const BOOT_MODE = { normal: 0, bootloader: 1 } as const;

/**
 * Reset is sent once: it is not idempotent (a second reset during a trial boot reverts it), and a
 * lost answer usually means the device reset before it could answer. Resolves `answered: false` then.
 * `bootMode` 1 asks for the bootloader's serial recovery (a device without it refuses).
 */
export async function reset(client: SmpClient, force = false, bootMode?: number): Promise<SmpResult<{ answered: boolean }>> {
  const body = { ...(force ? { force: 1 } : {}), ...(bootMode === undefined ? {} : { boot_mode: bootMode }) };
  const r = await client.request('write', GROUP.os, OS_COMMAND.reset, body, { tries: 1 });
  if (!r.ok && r.reason === 'no-answer') return { ok: true, value: { answered: false } };
  return r.ok ? { ok: true, value: { answered: true } } : r;
}

function slotState(entry: unknown): ImageSlotState | null {
  if (entry === null || typeof entry !== 'object') return null;
  const e = entry as SmpBody;
  if (!isUint(e.slot) || typeof e.version !== 'string') return null;
  const flag = (key: string): boolean => e[key] === true;
  return {
    image: isUint(e.image) ? e.image : 0,
    slot: e.slot,
    version: e.version,
    hash: e.hash instanceof Uint8Array ? Buffer.from(e.hash) : null,
    bootable: flag('bootable'),
    pending: flag('pending'),
    confirmed: flag('confirmed'),
    active: flag('active'),
    permanent: flag('permanent'),
  };
}

function imagesOf(what: string, body: SmpBody): SmpResult<ImageSlotState[]> {
  if (!Array.isArray(body.images)) return badResponse(what, body);
  const slots = body.images.map(slotState);
  if (slots.some((s) => s === null)) return badResponse(what, body);
  return { ok: true, value: slots as ImageSlotState[] };
}

/** Image state read: what each slot holds (`mcumgr image list`). */
export async function imageState(client: SmpClient): Promise<SmpResult<ImageSlotState[]>> {
  const r = await client.request('read', GROUP.image, IMAGE_COMMAND.state);
  return r.ok ? imagesOf('image state', r.value) : r;
}

/** Image state write: mark the image with `hash` for a test boot, or confirm (no hash: the running one). */
export async function setImageState(client: SmpClient, request: { hash?: Uint8Array; confirm: boolean }): Promise<SmpResult<ImageSlotState[]>> {
  const body: SmpBody = { confirm: request.confirm };
  if (request.hash) body.hash = request.hash;
  const r = await client.request('write', GROUP.image, IMAGE_COMMAND.state, body);
  return r.ok ? imagesOf('image state write', r.value) : r;
}

/** One upload request; resolves with the offset the device expects next. */
export async function uploadChunk(client: SmpClient, chunk: UploadChunk): Promise<SmpResult<{ off: number; match?: boolean }>> {
  const body: SmpBody = {};
  if (chunk.image !== undefined) body.image = chunk.image;
  if (chunk.len !== undefined) body.len = chunk.len;
  body.off = chunk.off;
  if (chunk.sha !== undefined) body.sha = chunk.sha;
  body.data = chunk.data;
  const r = await client.request('write', GROUP.image, IMAGE_COMMAND.upload, body);
  if (!r.ok) return r;
  if (!isUint(r.value.off)) return badResponse('image upload', r.value);
  return { ok: true, value: typeof r.value.match === 'boolean' ? { off: r.value.off, match: r.value.match } : { off: r.value.off } };
}
