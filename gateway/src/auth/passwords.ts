// Password hashes with Node's built-in scrypt: `scrypt$<log2 N>$<r>$<p>$<salt>$<key>` (base64url), parameters kept per hash.
// One hash at a time (each needs 128 MiB), a bounded queue behind it (docs/security.md).
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** OWASP's minimum for scrypt (N = 2^17, r = 8, p = 1): 128 * N * r = 128 MiB per hash. */
export const SCRYPT_LOG2_N = 17;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
export const MIN_PASSWORD_CHARS = 10;

/** Hashes queued, the running one included; more are refused with PasswordBusyError (a login answers 503). */
export const MAX_WAITING_HASHES = 8;

export class PasswordBusyError extends Error {}

let running: Promise<unknown> = Promise.resolve();
let waiting = 0;

/** Runs the hashes one after another: their memory never adds up, and the thread pool keeps threads for the rest. */
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  if (waiting >= MAX_WAITING_HASHES) return Promise.reject(new PasswordBusyError(`${waiting} password checks are waiting already; try again in a second`));
  waiting++;
  const next = running.then(work, work).finally(() => waiting--);
  running = next.catch(() => undefined);
  return next;
}

function derive(password: string, salt: Buffer, log2N: number, r: number, p: number, keyBytes: number): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes, over Node's default cap (32 MiB): the cap is twice that.
  const options: ScryptOptions = { N: 2 ** log2N, r, p, maxmem: 256 * 2 ** log2N * r };
  return oneAtATime(() => new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, KEY_BYTES);
  return ['scrypt', SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** False for a wrong password and for a stored value that is not a hash of this form. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every((v) => Number.isInteger(v) && v > 0) || log2N > 24) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length === 0) return false;
  const key = await derive(password, salt, log2N, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

/** A hash no password matches, made once: a login with an unknown name costs what a wrong password costs. */
let dummy: Promise<string> | null = null;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('base64url'));
  return dummy;
}
