// Images for the flash API tests: good, unsigned, signed by a key the gateway does not trust, for
// another target, without a target, altered after signing; and the trusted key as a PEM file.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { handHeader, handSignedImage, handTlvArea, keyFromSeed } from '../firmware/image-vectors.js';
import { PUBLIC_KEY, signedImage } from '../smp/images.js';

const OTHER_KEY = keyFromSeed(Buffer.alloc(32, 7));
const BODY = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 5) & 0xff));

export const GOOD = signedImage('1.1.0', 24000);
export const WRONG_TARGET = signedImage('1.1.0', 3000, 'nrf52840dk');
export const NO_TARGET = signedImage('1.1.0', 3000, null);
export const UNKNOWN_KEY = handSignedImage({ body: BODY, key: OTHER_KEY, target: 'mps2-an385' }).bytes;

/** A well-formed image with its hash TLV and no signature. */
export const UNSIGNED: Buffer = (() => {
  const prot = handTlvArea(0x6908, [[0x00b0, [...Buffer.from('mps2-an385')]]]);
  const header = handHeader({ hdrSize: 0x200, protectTlvSize: prot.length, imgSize: BODY.length, major: 1, minor: 1, revision: 0, build: 0 });
  const hashed = Buffer.from([...header, ...new Array<number>(0x200 - 32).fill(0xff), ...BODY, ...prot]);
  const hash = createHash('sha256').update(hashed).digest();
  return Buffer.concat([hashed, Buffer.from(handTlvArea(0x6907, [[0x10, hash]]))]);
})();

/** GOOD with one body bit flipped: its hash TLV no longer matches. */
export const HASH_MISMATCH: Buffer = (() => {
  const copy = Buffer.from(GOOD);
  copy[0x200 + 10]! ^= 0x01;
  return copy;
})();

/** The image's hash TLV (its id in the store), hex. */
export function imageHash(image: Buffer): string {
  const hdrSize = image.readUInt16LE(8);
  const imgSize = image.readUInt32LE(12);
  const protSize = image.readUInt16LE(10);
  return createHash('sha256').update(image.subarray(0, hdrSize + imgSize + protSize)).digest('hex');
}

/** Writes the trusted public key as PEM into dir; returns its path. */
export function writeTrustedKey(dir: string): string {
  const file = path.join(dir, 'site.pub.pem');
  writeFileSync(file, PUBLIC_KEY.export({ format: 'pem', type: 'spki' }));
  return file;
}

/** POST /api/images with the bytes as the body. */
export async function uploadImage(url: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<{ status: number; body: Record<string, unknown>; location: string | null }> {
  const res = await fetch(`${url}/api/images`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(bytes), signal: AbortSignal.timeout(10000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, location: res.headers.get('location') };
}
