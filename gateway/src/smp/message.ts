// SMP messages: the 8-byte header and the CBOR map after it (docs/smp.md#header).
import { decode, encode } from 'cborg';

export const HEADER_SIZE = 8;

export const OP = { read: 0, readResponse: 1, write: 2, writeResponse: 3 } as const;
export type Op = (typeof OP)[keyof typeof OP];

/** Header version field: 0 is the original protocol ("rc" errors), 1 is SMP version 2 ("err" maps). */
export const SMP_V1 = 0;
export const SMP_V2 = 1;

export const GROUP = { os: 0, image: 1 } as const;
export const OS_COMMAND = { echo: 0, reset: 5, mcumgrParams: 6, info: 7 } as const;
export const IMAGE_COMMAND = { state: 0, upload: 1 } as const;

/** MCUmgr's generic result codes (MGMT_ERR_*), for messages a person reads. */
export const MGMT_ERR: Record<number, string> = {
  0: 'ok',
  1: 'unknown error',
  2: 'out of memory',
  3: 'invalid value',
  4: 'timeout',
  5: 'no such entry',
  6: 'bad state',
  7: 'message too large',
  8: 'not supported',
  9: 'corrupt',
  10: 'busy',
  11: 'access denied',
  12: 'protocol version too old',
  13: 'protocol version too new',
};
export const MGMT_ERR_NOT_SUPPORTED = 8;
export const MGMT_ERR_TOO_NEW = 13;

export interface SmpHeader {
  op: Op;
  version: number;
  flags: number;
  group: number;
  seq: number;
  id: number;
}

/** A decoded CBOR map with text keys. */
export type SmpBody = Record<string, unknown>;

export interface SmpMessage {
  header: SmpHeader;
  body: SmpBody;
}

/** Header then CBOR body; the header's length is the body's. */
export function encodeMessage(header: SmpHeader, body: SmpBody): Buffer {
  const data = encode(body);
  if (data.length > 0xffff) throw new RangeError(`SMP body of ${data.length} bytes does not fit a 16-bit length`);
  const out = Buffer.alloc(HEADER_SIZE + data.length);
  out[0] = ((header.version & 0x3) << 3) | (header.op & 0x7);
  out[1] = header.flags & 0xff;
  out.writeUInt16BE(data.length, 2);
  out.writeUInt16BE(header.group & 0xffff, 4);
  out[6] = header.seq & 0xff;
  out[7] = header.id & 0xff;
  out.set(data, HEADER_SIZE);
  return out;
}

export type DecodeResult = { ok: true; message: SmpMessage } | { ok: false; reason: string };

export function decodeMessage(bytes: Uint8Array): DecodeResult {
  if (bytes.length < HEADER_SIZE) return { ok: false, reason: `an SMP message of ${bytes.length} bytes, shorter than its header` };
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.readUInt16BE(2);
  if (view.length !== HEADER_SIZE + length) {
    return { ok: false, reason: `an SMP message whose header says ${length} data bytes but ${view.length - HEADER_SIZE} follow` };
  }
  const header: SmpHeader = {
    op: (view[0]! & 0x7) as Op,
    version: (view[0]! >> 3) & 0x3,
    flags: view[1]!,
    group: view.readUInt16BE(4),
    seq: view[6]!,
    id: view[7]!,
  };
  if (header.op > OP.writeResponse) return { ok: false, reason: `an SMP message with unknown op ${header.op}` };
  if (length === 0) return { ok: true, message: { header, body: {} } };
  let body: unknown;
  try {
    body = decode(view.subarray(HEADER_SIZE));
  } catch (err) {
    return { ok: false, reason: `an SMP body that is not valid CBOR (${(err as Error).message})` };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body) || body instanceof Uint8Array) {
    return { ok: false, reason: 'an SMP body that is not a CBOR map' };
  }
  return { ok: true, message: { header, body: body as SmpBody } };
}

/** The error a response carries: SMP v2's "err" {group, rc}, or the original "rc" when not 0. */
export function responseError(body: SmpBody): { rc: number; group: number | null } | null {
  const err = body.err;
  if (err !== null && typeof err === 'object' && typeof (err as SmpBody).rc === 'number') {
    const rc = (err as SmpBody).rc as number;
    const group = typeof (err as SmpBody).group === 'number' ? ((err as SmpBody).group as number) : null;
    return rc === 0 ? null : { rc, group };
  }
  if (typeof body.rc === 'number' && body.rc !== 0) return { rc: body.rc, group: null };
  return null;
}

export function describeError(error: { rc: number; group: number | null }): string {
  const where = error.group === null ? '' : ` in group ${error.group}`;
  // Only the original protocol's "rc" is a generic MGMT_ERR code; v2's codes belong to their group.
  const generic = error.group === null ? MGMT_ERR[error.rc] : undefined;
  return `rc ${error.rc}${generic ? ` (${generic})` : ''}${where}`;
}
