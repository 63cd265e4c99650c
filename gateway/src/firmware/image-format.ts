// The MCUboot image layout: header and TLV areas, built and parsed with every bound checked
// (docs/firmware-image.md). Pure: bytes in, bytes or values out.
import { imageFailure, type ImageFailure } from './image-failures.js';

export const IMAGE_MAGIC = 0x96f3b83d;
/** The header struct; `hdr_size` reserves at least this much in front of the body. */
export const IMAGE_HEADER_STRUCT_SIZE = 32;
export const DEFAULT_HEADER_SIZE = 0x200;
export const TLV_INFO_MAGIC = 0x6907;
export const TLV_PROT_INFO_MAGIC = 0x6908;
export const TLV_INFO_SIZE = 4;
export const TLV_HEADER_SIZE = 4;
export const MAX_TLV_AREA_SIZE = 0xffff;

export const TLV = {
  KEYHASH: 0x01,
  PUBKEY: 0x02,
  SHA256: 0x10,
  ED25519: 0x24,
  /** Ours, in MCUboot's vendor range 0x00a0..0xfffe: the target name, protected. */
  SPOT_TARGET: 0x00b0,
} as const;

export const IMAGE_FLAGS = {
  PIC: 0x01,
  ENCRYPTED_AES128: 0x04,
  ENCRYPTED_AES256: 0x08,
  NON_BOOTABLE: 0x10,
  RAM_LOAD: 0x20,
  ROM_FIXED: 0x100,
} as const;

export interface ImageVersion {
  major: number;
  minor: number;
  revision: number;
  build: number;
}

export interface ImageHeader {
  magic: number;
  loadAddr: number;
  hdrSize: number;
  protectTlvSize: number;
  imgSize: number;
  flags: number;
  version: ImageVersion;
}

export interface TlvRecord {
  type: number;
  value: Uint8Array;
}

export interface ParsedTlv extends TlvRecord {
  /** Offset of the record's 4-byte header in the file. */
  offset: number;
}

export interface TlvArea {
  magic: number;
  offset: number;
  /** `it_tlv_tot`: the area's size including its info header. */
  size: number;
  tlvs: ParsedTlv[];
}

export interface ParsedImage {
  header: ImageHeader;
  bytes: Uint8Array;
  /** End of the hashed region: header + body + protected area. */
  hashedEnd: number;
  protectedArea: TlvArea | null;
  unprotectedArea: TlvArea;
  /** End of the image in the file; bytes after it (e.g. imgtool --pad) are not part of it. */
  end: number;
}

const VERSION_RE = /^(\d+)(?:\.(\d+)(?:\.(\d+)(?:\+(\d+))?)?)?$/;

/** Reads `X.Y.Z+B` (later parts optional), as imgtool's version.py does. */
export function parseVersion(text: string): ImageVersion | string {
  const m = VERSION_RE.exec(text);
  if (!m) return `version "${text}" is not X.Y.Z+B (later parts optional, digits only)`;
  const [major, minor, revision, build] = [m[1], m[2], m[3], m[4]].map((part) => (part === undefined ? 0 : Number(part))) as [number, number, number, number];
  if (major > 0xff) return `version "${text}": major ${major} is over 255`;
  if (minor > 0xff) return `version "${text}": minor ${minor} is over 255`;
  if (revision > 0xffff) return `version "${text}": revision ${revision} is over 65535`;
  if (build > 0xffffffff) return `version "${text}": build ${build} is over 4294967295`;
  return { major, minor, revision, build };
}

export function formatVersion(v: ImageVersion): string {
  return `${v.major}.${v.minor}.${v.revision}+${v.build}`;
}

export function encodeHeader(header: Omit<ImageHeader, 'magic'> & { magic?: number }): Buffer {
  const out = Buffer.alloc(IMAGE_HEADER_STRUCT_SIZE);
  out.writeUInt32LE(header.magic ?? IMAGE_MAGIC, 0);
  out.writeUInt32LE(header.loadAddr, 4);
  out.writeUInt16LE(header.hdrSize, 8);
  out.writeUInt16LE(header.protectTlvSize, 10);
  out.writeUInt32LE(header.imgSize, 12);
  out.writeUInt32LE(header.flags, 16);
  out.writeUInt8(header.version.major, 20);
  out.writeUInt8(header.version.minor, 21);
  out.writeUInt16LE(header.version.revision, 22);
  out.writeUInt32LE(header.version.build, 24);
  return out;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeHeader(bytes: Uint8Array): ImageHeader {
  const v = view(bytes);
  return {
    magic: v.getUint32(0, true),
    loadAddr: v.getUint32(4, true),
    hdrSize: v.getUint16(8, true),
    protectTlvSize: v.getUint16(10, true),
    imgSize: v.getUint32(12, true),
    flags: v.getUint32(16, true),
    version: { major: v.getUint8(20), minor: v.getUint8(21), revision: v.getUint16(22, true), build: v.getUint32(24, true) },
  };
}

/** The bytes of a TLV area: info header (magic, total size) then the records; empty when there are none. */
export function encodeTlvArea(magic: number, records: TlvRecord[]): Buffer | string {
  if (records.length === 0) return Buffer.alloc(0);
  const size = records.reduce((sum, r) => sum + TLV_HEADER_SIZE + r.value.length, TLV_INFO_SIZE);
  if (size > MAX_TLV_AREA_SIZE) return `TLV area of ${size} bytes is over ${MAX_TLV_AREA_SIZE}`;
  const out = Buffer.alloc(size);
  out.writeUInt16LE(magic, 0);
  out.writeUInt16LE(size, 2);
  let at = TLV_INFO_SIZE;
  for (const r of records) {
    out.writeUInt16LE(r.type, at);
    out.writeUInt16LE(r.value.length, at + 2);
    out.set(r.value, at + TLV_HEADER_SIZE);
    at += TLV_HEADER_SIZE + r.value.length;
  }
  return out;
}

const hex = (n: number, width = 4): string => `0x${n.toString(16).padStart(width, '0')}`;

function parseTlvArea(bytes: Uint8Array, offset: number, magic: number, name: string): { ok: true; area: TlvArea } | ImageFailure {
  if (offset + TLV_INFO_SIZE > bytes.length) {
    return imageFailure('truncated', `the file ends at ${bytes.length} bytes, before the ${name} TLV area's header at ${offset}`);
  }
  const v = view(bytes);
  const found = v.getUint16(offset, true);
  if (found !== magic) return imageFailure('tlv-damaged', `${name} TLV area at ${offset}: magic ${hex(found)}, expected ${hex(magic)}`);
  const size = v.getUint16(offset + 2, true);
  if (size < TLV_INFO_SIZE) return imageFailure('tlv-damaged', `${name} TLV area at ${offset}: total size ${size} is below its own 4-byte header`);
  const end = offset + size;
  if (end > bytes.length) return imageFailure('truncated', `${name} TLV area at ${offset} claims ${size} bytes; the file ends at ${bytes.length}`);
  const tlvs: ParsedTlv[] = [];
  let at = offset + TLV_INFO_SIZE;
  while (at < end) {
    if (at + TLV_HEADER_SIZE > end) return imageFailure('tlv-damaged', `${name} TLV area: a record header at ${at} runs past the area's end at ${end}`);
    const type = v.getUint16(at, true);
    const length = v.getUint16(at + 2, true);
    const valueEnd = at + TLV_HEADER_SIZE + length;
    if (valueEnd > end) return imageFailure('tlv-damaged', `${name} TLV area: record type ${hex(type)} at ${at} has ${length} bytes, past the area's end at ${end}`);
    tlvs.push({ type, offset: at, value: bytes.subarray(at + TLV_HEADER_SIZE, valueEnd) });
    at = valueEnd;
  }
  return { ok: true, area: { magic, offset, size, tlvs } };
}

/** The image's structure (header, body extent, TLV areas), or the first thing that makes it unreadable. */
export function parseImage(bytes: Uint8Array): { ok: true; image: ParsedImage } | ImageFailure {
  if (bytes.length < 4) return imageFailure('truncated', `${bytes.length} bytes: too short for an image header`);
  const magic = view(bytes).getUint32(0, true);
  if (magic !== IMAGE_MAGIC) return imageFailure('bad-magic', `magic ${hex(magic, 8)}, expected ${hex(IMAGE_MAGIC, 8)}: not an MCUboot image`);
  if (bytes.length < IMAGE_HEADER_STRUCT_SIZE) return imageFailure('truncated', `${bytes.length} bytes: the 32-byte header is cut`);
  const header = decodeHeader(bytes);
  if (header.hdrSize < IMAGE_HEADER_STRUCT_SIZE) return imageFailure('bad-header', `header size ${header.hdrSize} is below the 32-byte header`);
  const encrypted = header.flags & (IMAGE_FLAGS.ENCRYPTED_AES128 | IMAGE_FLAGS.ENCRYPTED_AES256);
  if (encrypted) return imageFailure('bad-header', `encrypted image (flags ${hex(header.flags, 8)}): its hash is over the plaintext, which cannot be checked here`);
  const bodyEnd = header.hdrSize + header.imgSize;
  if (bodyEnd > bytes.length) return imageFailure('truncated', `header + body is ${bodyEnd} bytes; the file ends at ${bytes.length}`);

  let protectedArea: TlvArea | null = null;
  if (header.protectTlvSize > 0) {
    const parsed = parseTlvArea(bytes, bodyEnd, TLV_PROT_INFO_MAGIC, 'protected');
    if (!parsed.ok) return parsed;
    if (parsed.area.size !== header.protectTlvSize) {
      return imageFailure('tlv-damaged', `protected TLV area is ${parsed.area.size} bytes, the header says ${header.protectTlvSize}`);
    }
    protectedArea = parsed.area;
  } else if (bodyEnd + 2 <= bytes.length && view(bytes).getUint16(bodyEnd, true) === TLV_PROT_INFO_MAGIC) {
    return imageFailure('tlv-damaged', `a protected TLV area follows the body but the header's protected size is 0`);
  }
  const hashedEnd = bodyEnd + header.protectTlvSize;
  const unprotected = parseTlvArea(bytes, hashedEnd, TLV_INFO_MAGIC, 'unprotected');
  if (!unprotected.ok) return unprotected;
  const unprotectedArea = unprotected.area;
  return { ok: true, image: { header, bytes, hashedEnd, protectedArea, unprotectedArea, end: hashedEnd + unprotectedArea.size } };
}

/** The TLVs of one type in an area. */
export function tlvsOfType(area: TlvArea | null, type: number): ParsedTlv[] {
  return area ? area.tlvs.filter((t) => t.type === type) : [];
}
