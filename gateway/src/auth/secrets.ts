// High-entropy secrets (spot tokens, API keys, session ids): made from 32 random bytes, stored as SHA-256, compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Characters of a secret shown in lists (after its kind prefix): enough to tell keys apart, useless to guess the rest. */
export const SHOWN_PREFIX_CHARS = 8;

/** `<kind>_` + 43 base64url characters (32 random bytes). */
export function newSecret(kind: 'sgt' | 'sgk' | 'sgs'): string {
  return `${kind}_${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 of the secret's text: 32 bytes, what the database keeps. */
export function digestOf(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time equality of two digests; false (not a throw) when a stored value has the wrong length. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What lists show of a secret: its kind and the first characters after it. */
export function shownPrefix(secret: string): string {
  const cut = secret.indexOf('_') + 1;
  return secret.slice(0, cut + SHOWN_PREFIX_CHARS);
}

/** The secret a request carries in `Authorization: Bearer <secret>`, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1] : undefined;
}
