// Signing: a raw application binary -> an MCUboot image with the target, SHA-256, key hash and
// ed25519 signature TLVs, laid out as imgtool lays it out (docs/firmware-image.md).
import { createHash, sign, type KeyObject } from 'node:crypto';
import {
  DEFAULT_HEADER_SIZE,
  encodeHeader,
  encodeTlvArea,
  IMAGE_HEADER_STRUCT_SIZE,
  TLV,
  TLV_INFO_MAGIC,
  TLV_PROT_INFO_MAGIC,
  type ImageVersion,
  type TlvRecord,
} from './image-format.js';
import { keyHash } from './keys.js';

export const DEFAULT_TARGET = 'mps2-an385';
const TARGET_RE = /^[a-z0-9._-]{1,64}$/;
/** What `--pad-header` fills the header room with: the erased value of flash, as imgtool does. */
const ERASED = 0xff;

export interface SignRequest {
  /** The input file: the application binary (with header room in front of it unless padHeader). */
  input: Uint8Array;
  version: ImageVersion;
  privateKey: KeyObject;
  /** Target name for the protected target TLV; null for none. */
  target: string | null;
  headerSize?: number;
  padHeader: boolean;
}

export interface SignedImage {
  ok: true;
  image: Buffer;
  /** The SHA-256 TLV value. */
  hash: Buffer;
  imgSize: number;
}

export function checkTargetName(target: string): string | null {
  return TARGET_RE.test(target) ? null : `target "${target}" must be 1..64 characters of a-z 0-9 . _ -`;
}

/** The signed image, or why it cannot be made. */
export function signImage(request: SignRequest): SignedImage | { ok: false; reason: string } {
  const headerSize = request.headerSize ?? DEFAULT_HEADER_SIZE;
  if (!Number.isInteger(headerSize) || headerSize < IMAGE_HEADER_STRUCT_SIZE || headerSize > 0xffff) {
    return { ok: false, reason: `header size ${headerSize} must be 32..65535 (0x200 is the usual)` };
  }
  if (request.privateKey.type !== 'private' || request.privateKey.asymmetricKeyType !== 'ed25519') {
    return { ok: false, reason: 'the signing key must be an ed25519 private key' };
  }
  if (request.target !== null) {
    const bad = checkTargetName(request.target);
    if (bad) return { ok: false, reason: bad };
  }

  let headed: Buffer;
  if (request.padHeader) {
    headed = Buffer.concat([Buffer.alloc(headerSize, ERASED), request.input]);
  } else {
    const room = request.input.subarray(0, headerSize);
    if (room.length < headerSize || room.some((b) => b !== 0)) {
      const size = `0x${headerSize.toString(16)}`;
      return { ok: false, reason: `the input does not start with ${size} zero bytes for the header; link the header room in or use --pad-header` };
    }
    headed = Buffer.from(request.input);
  }
  const imgSize = headed.length - headerSize;

  const protectedRecords: TlvRecord[] = request.target === null ? [] : [{ type: TLV.SPOT_TARGET, value: Buffer.from(request.target, 'utf8') }];
  const protectedArea = encodeTlvArea(TLV_PROT_INFO_MAGIC, protectedRecords);
  if (typeof protectedArea === 'string') return { ok: false, reason: protectedArea };

  encodeHeader({ loadAddr: 0, hdrSize: headerSize, protectTlvSize: protectedArea.length, imgSize, flags: 0, version: request.version }).copy(headed, 0);
  const hashed = Buffer.concat([headed, protectedArea]);
  const hash = createHash('sha256').update(hashed).digest();
  // ed25519 over the 32-byte digest, not the image: what imgtool's sign_digest and MCUboot's verify do.
  const signature = sign(null, hash, request.privateKey);
  const unprotectedArea = encodeTlvArea(TLV_INFO_MAGIC, [
    { type: TLV.SHA256, value: hash },
    { type: TLV.KEYHASH, value: keyHash(request.privateKey) },
    { type: TLV.ED25519, value: signature },
  ]);
  if (typeof unprotectedArea === 'string') return { ok: false, reason: unprotectedArea };
  return { ok: true, image: Buffer.concat([hashed, unprotectedArea]), hash, imgSize };
}
