// A power cut, modelled on the real files: what survives one is what the WAL held when an fsync of it
// started that has since finished (docs/storage.md, "How `full` waits for the disk without blocking").
// The store's WAL fsyncs (fs.fsync on the thread pool, fs.fsyncSync for flush and close) are wrapped in
// this process: each takes an image of the database file and its WAL as it calls the fsync, and the image
// becomes the durable one when that fsync returns without error. Fsyncs can be held and then let go, or
// failed, one at a time, in the order they were called.
import fs from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { DB_FILE } from '../../gateway/src/store/index.js';

interface Image {
  db: Buffer;
  wal: Buffer | null;
}

type FsyncCallback = (err: NodeJS.ErrnoException | null) => void;

export class DiskModel {
  /** Fsyncs of the WAL (async and sync) called so far. */
  walFsyncs = 0;
  /** Of them, the synchronous ones (the event loop waited). */
  syncWalFsyncs = 0;
  private durable: Image | null = null;
  private holding = false;
  private held: Array<{ image: Image; run: (fail: NodeJS.ErrnoException | null) => void }> = [];

  constructor(private readonly dataDir: string) {}

  /** Installs the wrappers (this process, until the test ends): test files using it run their tests serially. */
  install(t: ExecutionContext): void {
    // The originals, called with fs as `this` below.
    const fsync = fs.fsync;
    const fsyncSync = fs.fsyncSync;
    const walPath = path.join(this.dataDir, `${DB_FILE}-wal`);
    const isWal = (fd: number): boolean => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`) === fs.realpathSync(walPath);
      } catch {
        return false;
      }
    };
    fs.fsync = ((fd: number, cb: FsyncCallback) => {
      if (!isWal(fd)) return fsync.call(fs, fd, cb);
      this.walFsyncs++;
      const image = this.take();
      const run = (fail: NodeJS.ErrnoException | null): void =>
        fsync.call(fs, fd, (err) => {
          const e = err ?? fail;
          if (!e) this.durable = image;
          cb(e);
        });
      if (this.holding) this.held.push({ image, run });
      else run(null);
    }) as typeof fs.fsync;
    fs.fsyncSync = (fd: number): void => {
      if (!isWal(fd)) return fsyncSync.call(fs, fd);
      this.walFsyncs++;
      this.syncWalFsyncs++;
      const image = this.take();
      fsyncSync.call(fs, fd);
      this.durable = image;
    };
    t.teardown(() => {
      fs.fsync = fsync;
      fs.fsyncSync = fsyncSync;
      for (const h of this.held.splice(0)) h.run(null);
    });
  }

  /** From now on the WAL fsyncs wait for `release` or `fail`. */
  hold(): void {
    this.holding = true;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Lets the oldest held fsync run; later ones are still held. */
  release(): void {
    const h = this.held.shift();
    if (!h) throw new Error('no fsync is held');
    h.run(null);
  }

  /** Stops holding: every held fsync runs, in order, and later ones are not held. */
  releaseAll(): void {
    this.holding = false;
    for (const h of this.held.splice(0)) h.run(null);
  }

  /** The oldest held fsync fails (EIO): nothing it covered became durable through it. */
  fail(): void {
    const h = this.held.shift();
    if (!h) throw new Error('no fsync is held');
    const err = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5, syscall: 'fsync' });
    h.run(err);
  }

  /** The power goes now: a fresh data directory holding what the disk has. */
  cutPower(into: string): string {
    if (!this.durable) throw new Error('no fsync of the WAL has finished yet: take one first (store.flush())');
    fs.mkdirSync(into, { recursive: true });
    fs.writeFileSync(path.join(into, DB_FILE), this.durable.db);
    if (this.durable.wal) fs.writeFileSync(path.join(into, `${DB_FILE}-wal`), this.durable.wal);
    return into;
  }

  private take(): Image {
    const walPath = path.join(this.dataDir, `${DB_FILE}-wal`);
    return { db: fs.readFileSync(path.join(this.dataDir, DB_FILE)), wal: fs.existsSync(walPath) ? fs.readFileSync(walPath) : null };
  }
}
