// MCUboot images put together byte by byte from the published field offsets (MCUboot docs/design.md,
// imgtool's image.py): independent of gateway/src/firmware's builder, so the tests compare two readings of the spec.
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

export const le16 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];
export const le32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

export interface HandHeader {
  magic?: number;
  loadAddr?: number;
  hdrSize: number;
  protectTlvSize: number;
  imgSize: number;
  flags?: number;
  major: number;
  minor: number;
  revision: number;
  build: number;
}

/** The 32-byte struct image_header, field by field at its offsets 0, 4, 8, 10, 12, 16, 20, 21, 22, 24, 28. */
export function handHeader(h: HandHeader): number[] {
  return [
    ...le32(h.magic ?? 0x96f3b83d), // 0 ih_magic
    ...le32(h.loadAddr ?? 0), // 4 ih_load_addr
    ...le16(h.hdrSize), // 8 ih_hdr_size
    ...le16(h.protectTlvSize), // 10 ih_protect_tlv_size
    ...le32(h.imgSize), // 12 ih_img_size
    ...le32(h.flags ?? 0), // 16 ih_flags
    h.major, // 20 iv_major
    h.minor, // 21 iv_minor
    ...le16(h.revision), // 22 iv_revision
    ...le32(h.build), // 24 iv_build_num
    ...le32(0), // 28 _pad1
  ];
}

/** A TLV area: it_magic, it_tlv_tot (including these 4 bytes), then type/len/value records. */
export function handTlvArea(magic: number, records: Array<[number, number[] | Uint8Array]>): number[] {
  const body = records.flatMap(([type, value]) => [...le16(type), ...le16(value.length), ...value]);
  return [...le16(magic), ...le16(4 + body.length), ...body];
}

/** A fixed ed25519 key (RFC 8032 test 1's secret), so vectors are the same on every run. */
export const FIXED_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');

export function keyFromSeed(seed: Uint8Array): KeyObject {
  // PKCS#8 for ed25519: SEQUENCE { INTEGER 0, AlgorithmIdentifier { 1.3.101.112 }, OCTET STRING { OCTET STRING seed } }
  const der = Buffer.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, ...seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** SubjectPublicKeyInfo DER by hand: SEQUENCE { AlgorithmIdentifier { 1.3.101.112 }, BIT STRING { raw key } }. */
export function handSpki(key: KeyObject): Buffer {
  const raw = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
  return Buffer.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, ...raw]);
}

export interface HandImage {
  bytes: Buffer;
  hash: Buffer;
  /** Offsets of the parts, for flipping bits in them. */
  bodyAt: number;
  protectedAt: number;
  unprotectedAt: number;
  signatureAt: number;
  keyHashAt: number;
  hashAt: number;
}

/**
 * A signed image as imgtool lays it out: header room (header + 0xff padding, as --pad-header),
 * body, protected area [target], unprotected area [SHA256, KEYHASH, ED25519 over the digest].
 */
export function handSignedImage(opts: { body: Uint8Array; key: KeyObject; target: string | null; hdrSize?: number; version?: [number, number, number, number] }): HandImage {
  const hdrSize = opts.hdrSize ?? 0x200;
  const [major, minor, revision, build] = opts.version ?? [1, 2, 3, 4];
  const prot = opts.target === null ? [] : handTlvArea(0x6908, [[0x00b0, [...Buffer.from(opts.target, 'utf8')]]]);
  const header = handHeader({ hdrSize, protectTlvSize: prot.length, imgSize: opts.body.length, major, minor, revision, build });
  const room = [...header, ...new Array<number>(hdrSize - 32).fill(0xff)];
  const hashed = Buffer.from([...room, ...opts.body, ...prot]);
  const hash = createHash('sha256').update(hashed).digest();
  const keyHash = createHash('sha256').update(handSpki(opts.key)).digest();
  const signature = sign(null, hash, opts.key);
  const unprot = handTlvArea(0x6907, [
    [0x10, hash],
    [0x01, keyHash],
    [0x24, signature],
  ]);
  const protectedAt = hdrSize + opts.body.length;
  const unprotectedAt = protectedAt + prot.length;
  return {
    bytes: Buffer.concat([hashed, Buffer.from(unprot)]),
    hash,
    bodyAt: hdrSize,
    protectedAt,
    unprotectedAt,
    hashAt: unprotectedAt + 4 + 4,
    keyHashAt: unprotectedAt + 4 + 36 + 4,
    signatureAt: unprotectedAt + 4 + 36 + 36 + 4,
  };
}

export function flipBit(bytes: Uint8Array, offset: number, bit = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = copy[offset]! ^ (1 << bit);
  return copy;
}
