// Checking an image the way MCUboot does before it boots one, plus the target: a value that says
// the image is good, or which check failed and why (docs/firmware-image.md, the exit-code table).
import { createHash, verify, type KeyObject } from 'node:crypto';
import { imageFailure, type ImageFailure } from './image-failures.js';
import { parseImage, TLV, tlvsOfType, type ParsedImage } from './image-format.js';
import { keyHash, publicKeyDer } from './keys.js';

/**
 * TLV types MCUboot accepts in the unprotected area (its allowed_unprot_tlvs: key hash or key, hashes,
 * signatures, SIG_PURE, encryption keys); all others must be protected.
 */
export const ALLOWED_UNPROTECTED_TLVS: ReadonlySet<number> = new Set([
  0x01, 0x02, 0x10, 0x11, 0x12, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x30, 0x31, 0x32, 0x33,
]);

export interface VerifyRequest {
  publicKey: KeyObject;
  /** The target this image must be for when it names one. */
  expectedTarget: string;
  /** Refuse an image that names no target (default: accept it, as plain `imgtool sign` makes). */
  requireTarget?: boolean;
}

export interface VerifiedImage {
  ok: true;
  image: ParsedImage;
  hash: Buffer;
  target: string | null;
}

/** SHA-256 of header + body + protected TLV area. */
export function hashedRegionDigest(image: ParsedImage): Buffer {
  return createHash('sha256').update(image.bytes.subarray(0, image.hashedEnd)).digest();
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The image's target TLV: null when absent, a failure when it is there twice or not text. */
export function readTarget(image: ParsedImage): { ok: true; target: string | null } | ImageFailure {
  const targets = tlvsOfType(image.protectedArea, TLV.SPOT_TARGET);
  if (targets.length === 0) return { ok: true, target: null };
  if (targets.length > 1) return imageFailure('tlv-damaged', `${targets.length} target TLVs (type 0x00b0); an image names one target`);
  try {
    return { ok: true, target: new TextDecoder('utf-8', { fatal: true }).decode(targets[0]!.value) };
  } catch {
    return imageFailure('tlv-damaged', `the target TLV is not UTF-8 text (${hex(targets[0]!.value)})`);
  }
}

function checkSignature(image: ParsedImage, digest: Buffer, publicKey: KeyObject): ImageFailure | null {
  const ourHash = keyHash(publicKey);
  const ourDer = publicKeyDer(publicKey);
  const imageKeys: string[] = [];
  let signatures = 0;
  let keyMatched = false;
  let verified = false;
  // A signature belongs to the KEYHASH or PUBKEY record before it, as MCUboot reads them.
  let currentIsOurs = false;
  for (const tlv of image.unprotectedArea.tlvs) {
    if (tlv.type === TLV.KEYHASH) {
      imageKeys.push(`key hash ${hex(tlv.value)}`);
      currentIsOurs = ourHash.equals(tlv.value);
    } else if (tlv.type === TLV.PUBKEY) {
      imageKeys.push(`public key ${hex(tlv.value)}`);
      currentIsOurs = ourDer.equals(tlv.value);
    } else if (tlv.type === TLV.ED25519) {
      signatures += 1;
      if (!currentIsOurs) continue;
      keyMatched = true;
      if (tlv.value.length === 64 && verify(null, digest, publicKey, tlv.value)) verified = true;
    }
  }
  if (signatures === 0) return imageFailure('unsigned', 'no ed25519 signature TLV (0x24): the image is not signed, or not with ed25519');
  if (!keyMatched) {
    const named = imageKeys.length ? imageKeys.join(', ') : 'no key hash at all';
    return imageFailure('unknown-key', `signed by another key (${named}); the given key's hash is ${hex(ourHash)}`);
  }
  if (!verified) return imageFailure('bad-signature', `the ed25519 signature does not verify with the key ${hex(ourHash)}: the image was altered after signing`);
  return null;
}

/** Every check, in the order of the exit-code table; the first that fails is the answer. */
export function verifyImage(bytes: Uint8Array, request: VerifyRequest): VerifiedImage | ImageFailure {
  const parsed = parseImage(bytes);
  if (!parsed.ok) return parsed;
  const image = parsed.image;

  const rogue = image.unprotectedArea.tlvs.find((t) => !ALLOWED_UNPROTECTED_TLVS.has(t.type));
  if (rogue) {
    const type = `0x${rogue.type.toString(16).padStart(4, '0')}`;
    return imageFailure('unprotected-tlv', `TLV type ${type} at ${rogue.offset} is in the unprotected area, where MCUboot accepts only hashes, keys and signatures`);
  }

  const hashes = tlvsOfType(image.unprotectedArea, TLV.SHA256);
  if (hashes.length === 0) return imageFailure('no-hash', 'no SHA256 TLV (0x10)');
  if (hashes.length > 1) return imageFailure('tlv-damaged', `${hashes.length} SHA256 TLVs; an image has one`);
  const recorded = hashes[0]!.value;
  if (recorded.length !== 32) return imageFailure('no-hash', `the SHA256 TLV holds ${recorded.length} bytes, not 32`);
  const digest = hashedRegionDigest(image);
  if (!digest.equals(recorded)) {
    return imageFailure('hash-mismatch', `header, body and protected TLVs hash to ${hex(digest)}, the image records ${hex(recorded)}: it was altered or damaged`);
  }

  const signatureFailure = checkSignature(image, digest, request.publicKey);
  if (signatureFailure) return signatureFailure;

  const target = readTarget(image);
  if (!target.ok) return target;
  if (target.target === null && request.requireTarget) return imageFailure('no-target', `the image names no target; expected "${request.expectedTarget}"`);
  if (target.target !== null && target.target !== request.expectedTarget) {
    return imageFailure('wrong-target', `the image is for "${target.target}", not "${request.expectedTarget}"`);
  }
  return { ok: true, image, hash: digest, target: target.target };
}
