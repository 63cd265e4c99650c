// Signed images kept for flashing (docs/firmware-store.md): one file per image under
// <data_dir>/images, named by the image's SHA-256 (its hash TLV, what a device reports for a slot).
// An image is checked against the trusted keys and the target when it comes in and again every
// time it is read, so a file changed on disk or a key no longer trusted is never flashed.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ImageFailure } from '../firmware/image-failures.js';
import { mcumgrVersionString } from '../smp/version.js';
import { checkImage, type CheckedImage, type ImageRules } from './trusted-keys.js';

const SUFFIX = '.img';
const HASH = /^[0-9a-f]{64}$/;

export interface StoredImage {
  /** SHA-256 of header, body and protected TLVs (the hash TLV), hex: the image's id. */
  hash: string;
  /** As a device reports it in image state (X.Y.Z, .B when the build number is not 0). */
  version: string;
  /** Bytes of the stored image (header, body, TLVs; padding after them is not kept). */
  size: number;
  target: string | null;
  /** The trusted key that signed it (SHA-256 of its SubjectPublicKeyInfo), null when none does now. */
  keyHash: string | null;
  /** Unix ms the file was written. */
  storedAt: number;
  /** Null when it can be flashed; else why not (a key no longer trusted, a file damaged on disk). */
  refused: { reason: string; detail: string } | null;
}

export type AddResult =
  | { ok: true; image: StoredImage; created: boolean }
  | { ok: false; status: 409; reason: string }
  | { ok: false; status: 422; refusal: ImageFailure };

export type ReadResult = { ok: true; image: StoredImage; checked: CheckedImage } | { ok: false; status: 404; reason: string } | { ok: false; status: 422; refusal: ImageFailure };

export interface ImageStoreOptions {
  /** The directory of the images (created when missing). */
  dir: string;
  rules: ImageRules;
  maxImages: number;
  logger: { warn(obj: object, msg: string): void };
}

function describe(hash: string, checked: CheckedImage | ImageFailure, size: number, storedAt: number): StoredImage {
  if (checked.ok) {
    return { hash, version: mcumgrVersionString(checked.image.header.version), size, target: checked.target, keyHash: checked.key.hash, storedAt, refused: null };
  }
  return { hash, version: 'unknown', size, target: null, keyHash: null, storedAt, refused: { reason: checked.reason, detail: checked.detail } };
}

export class ImageStore {
  private readonly images = new Map<string, StoredImage>();

  constructor(private readonly options: ImageStoreOptions) {
    mkdirSync(options.dir, { recursive: true });
    for (const name of readdirSync(options.dir)) {
      const file = path.join(options.dir, name);
      // A write cut by a crash leaves its temporary file: the upload was never answered.
      if (name.endsWith('.tmp')) rmSync(file, { force: true });
      else if (name.endsWith(SUFFIX) && HASH.test(name.slice(0, -SUFFIX.length))) this.index(name.slice(0, -SUFFIX.length));
    }
  }

  list(): StoredImage[] {
    return [...this.images.values()].sort((a, b) => b.storedAt - a.storedAt || a.hash.localeCompare(b.hash));
  }

  get(hash: string): StoredImage | undefined {
    return this.images.get(hash);
  }

  /** Checks the image and keeps it (without the bytes after its TLVs); the same image again is kept once. */
  add(bytes: Uint8Array): AddResult {
    const checked = checkImage(bytes, this.options.rules);
    if (!checked.ok) return { ok: false, status: 422, refusal: checked };
    const hash = checked.hash.toString('hex');
    const known = this.images.get(hash);
    if (known && !known.refused) return { ok: true, image: known, created: false };
    if (!known && this.images.size >= this.options.maxImages) {
      return { ok: false, status: 409, reason: `${this.images.size} images are stored, the most firmware.max_images allows: delete one first (DELETE /api/images/<hash>)` };
    }
    const image = checked.image.bytes.subarray(0, checked.image.end);
    this.write(hash, image);
    const stored = describe(hash, checked, image.length, Math.round(statSync(this.file(hash)).mtimeMs));
    this.images.set(hash, stored);
    return { ok: true, image: stored, created: true };
  }

  /** The image's bytes, checked again as they are on disk now. */
  read(hash: string): ReadResult {
    if (!this.images.has(hash)) return { ok: false, status: 404, reason: `no stored image ${hash}` };
    const indexed = this.index(hash);
    if (!indexed) return { ok: false, status: 404, reason: `no stored image ${hash}: its file is gone` };
    if (!indexed.checked.ok) return { ok: false, status: 422, refusal: indexed.checked };
    return { ok: true, image: indexed.image, checked: indexed.checked };
  }

  remove(hash: string): boolean {
    if (!this.images.delete(hash)) return false;
    rmSync(this.file(hash), { force: true });
    return true;
  }

  private file(hash: string): string {
    return path.join(this.options.dir, `${hash}${SUFFIX}`);
  }

  /** Reads and checks one file, and records what it holds; null when it cannot be read. */
  private index(hash: string): { image: StoredImage; checked: CheckedImage | ImageFailure } | null {
    let bytes: Buffer;
    let storedAt: number;
    try {
      bytes = readFileSync(this.file(hash));
      storedAt = statSync(this.file(hash)).mtimeMs;
    } catch (err) {
      this.options.logger.warn({ image: hash, reason: String(err) }, `stored image ${hash} cannot be read; it is left out`);
      this.images.delete(hash);
      return null;
    }
    let checked = checkImage(bytes, this.options.rules);
    if (checked.ok && checked.hash.toString('hex') !== hash) {
      checked = { ok: false, reason: 'hash-mismatch', detail: `the file named ${hash} holds the image ${checked.hash.toString('hex')}` };
    }
    const image = describe(hash, checked, bytes.length, Math.round(storedAt));
    if (image.refused) this.options.logger.warn({ image: hash, ...image.refused }, `stored image ${hash} is refused: ${image.refused.reason}: ${image.refused.detail}`);
    this.images.set(hash, image);
    return { image, checked };
  }

  /** Written whole or not at all: a temporary file, synced, renamed over the name, the directory synced. */
  private write(hash: string, bytes: Uint8Array): void {
    const temp = `${this.file(hash)}.tmp`;
    const fd = openSync(temp, 'w', 0o644);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file(hash));
    const dir = openSync(this.options.dir, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
