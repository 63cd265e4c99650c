// Signed MCUboot images for the SMP tests: a fixed key, a body that differs with the version.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseVersion } from '../../gateway/src/firmware/image-format.js';
import { signImage } from '../../gateway/src/firmware/image-sign.js';
import { FIXED_SEED, keyFromSeed } from '../firmware/image-vectors.js';

export const SIGNING_KEY: KeyObject = keyFromSeed(FIXED_SEED);
export const PUBLIC_KEY: KeyObject = createPublicKey(SIGNING_KEY);

export function signedImage(version: string, bodySize = 3000, target: string | null = 'mps2-an385'): Buffer {
  const v = parseVersion(version);
  if (typeof v === 'string') throw new Error(v);
  const seed = v.major * 31 + v.minor * 7 + v.revision;
  const input = Buffer.from(Array.from({ length: bodySize }, (_, i) => (i * 13 + seed) & 0xff));
  const signed = signImage({ input, version: v, privateKey: SIGNING_KEY, target, padHeader: true });
  if (!signed.ok) throw new Error(signed.reason);
  return signed.image;
}
