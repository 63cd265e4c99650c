// The keys and target an image must satisfy to be stored or flashed from the API
// (docs/firmware-store.md): the public keys of firmware.trusted_keys, read once at start.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageFailure, type ImageFailure } from '../firmware/image-failures.js';
import { verifyImage, type VerifiedImage, type VerifyRequest } from '../firmware/image-verify.js';
import { keyHash, readPublicKey } from '../firmware/keys.js';

export interface TrustedKey {
  /** The file it was read from, as configured. */
  file: string;
  key: KeyObject;
  /** SHA-256 of its SubjectPublicKeyInfo DER, hex: what an image's KEYHASH TLV holds. */
  hash: string;
}

export interface ImageRules {
  keys: readonly TrustedKey[];
  target: string;
  requireTarget: boolean;
}

export type CheckedImage = VerifiedImage & { key: TrustedKey; verify: VerifyRequest };

/** Reads the comma-separated key files of firmware.trusted_keys (relative ones from cwd); a file that cannot be used is named with the reason. */
export function readTrustedKeys(list: string, cwd: string = process.cwd()): { ok: true; keys: TrustedKey[] } | { ok: false; reason: string } {
  const keys: TrustedKey[] = [];
  for (const file of list.split(',').map((f) => f.trim()).filter((f) => f !== '')) {
    let pem: Buffer;
    try {
      pem = readFileSync(path.resolve(cwd, file));
    } catch (err) {
      return { ok: false, reason: `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
    }
    const read = readPublicKey(pem);
    if (!read.ok) return { ok: false, reason: `${file}: ${read.reason}` };
    keys.push({ file, key: read.key, hash: keyHash(read.key).toString('hex') });
  }
  return { ok: true, keys };
}

/** Stands in for the key when none is trusted: the image's own faults are still named, and a signed image is an unknown key. */
const NO_KEY: TrustedKey = (() => {
  const key = generateKeyPairSync('ed25519').publicKey;
  return { file: '(none)', key, hash: keyHash(key).toString('hex') };
})();

/**
 * verifyImage with each trusted key: good when one of them signed it. A failure that does not depend
 * on the key (format, hash, unsigned, target) or a bad signature by a trusted key is the answer as is;
 * when no trusted key signed it, unknown-key lists the keys trusted.
 */
export function checkImage(bytes: Uint8Array, rules: ImageRules): CheckedImage | ImageFailure {
  const keys = rules.keys.length > 0 ? rules.keys : [NO_KEY];
  let unknown: ImageFailure | null = null;
  for (const key of keys) {
    const verify: VerifyRequest = { publicKey: key.key, expectedTarget: rules.target, requireTarget: rules.requireTarget };
    const result = verifyImage(bytes, verify);
    if (result.ok) return { ...result, key, verify };
    if (result.reason !== 'unknown-key') return result;
    unknown = result;
  }
  const signedBy = unknown!.detail.replace(/; the given key's hash is [0-9a-f]+$/, '');
  const trusted = rules.keys.length > 0 ? `the trusted keys are ${rules.keys.map((k) => `${k.file} (${k.hash})`).join(', ')}` : 'no key is trusted (firmware.trusted_keys is empty)';
  return imageFailure('unknown-key', `${signedBy}; ${trusted}`);
}
