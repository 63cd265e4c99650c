// What an image says about itself, for `image info`: no key needed, the signature not judged.
import { createHash } from 'node:crypto';
import { formatVersion, IMAGE_FLAGS, TLV, tlvsOfType, type ParsedImage } from './image-format.js';
import { hashedRegionDigest, readTarget } from './image-verify.js';

const SIGNATURE_TLVS: Record<number, string> = { 0x20: 'rsa2048-pss', 0x21: 'ecdsa224', 0x22: 'ecdsa', 0x23: 'rsa3072-pss', 0x24: 'ed25519' };

export interface ImageInfo {
  version: string;
  headerSize: number;
  imageSize: number;
  loadAddr: number;
  flags: string[];
  /** The SHA256 TLV, hex (what `mcumgr image list` calls the hash); null when absent. */
  hash: string | null;
  hashMatches: boolean;
  target: string | null;
  /** SHA-256 of each signing public key (SubjectPublicKeyInfo DER) the image names. */
  keyHashes: string[];
  signatures: string[];
  protectedTlvs: number[];
  unprotectedTlvs: number[];
  /** Bytes in the file after the image's last TLV (imgtool --pad). */
  trailingBytes: number;
}

function flagNames(flags: number): string[] {
  const names = Object.entries(IMAGE_FLAGS).filter(([, bit]) => (flags & bit) !== 0).map(([name]) => name);
  const known = Object.values(IMAGE_FLAGS).reduce((all, bit) => all | bit, 0);
  const unknown = flags & ~known;
  return unknown ? [...names, `0x${(unknown >>> 0).toString(16)}`] : names;
}

export function describeImage(image: ParsedImage): ImageInfo {
  const hashTlv = tlvsOfType(image.unprotectedArea, TLV.SHA256)[0];
  const hash = hashTlv ? Buffer.from(hashTlv.value).toString('hex') : null;
  const target = readTarget(image);
  return {
    version: formatVersion(image.header.version),
    headerSize: image.header.hdrSize,
    imageSize: image.header.imgSize,
    loadAddr: image.header.loadAddr,
    flags: flagNames(image.header.flags),
    hash,
    hashMatches: hash !== null && hash === hashedRegionDigest(image).toString('hex'),
    target: target.ok ? target.target : null,
    keyHashes: [
      ...tlvsOfType(image.unprotectedArea, TLV.KEYHASH).map((t) => Buffer.from(t.value).toString('hex')),
      // A full public key (imgtool --public-key-format full) is shown by its hash, as MCUboot matches it.
      ...tlvsOfType(image.unprotectedArea, TLV.PUBKEY).map((t) => createHash('sha256').update(t.value).digest('hex')),
    ],
    signatures: image.unprotectedArea.tlvs.filter((t) => SIGNATURE_TLVS[t.type] !== undefined).map((t) => SIGNATURE_TLVS[t.type]!),
    protectedTlvs: image.protectedArea?.tlvs.map((t) => t.type) ?? [],
    unprotectedTlvs: image.unprotectedArea.tlvs.map((t) => t.type),
    trailingBytes: image.bytes.length - image.end,
  };
}
