// Durability `full` without blocking the event loop: SQLite commits with synchronous NORMAL (no
// fsync in COMMIT) and the store fsyncs the WAL file itself, on libuv's thread pool, before it
// acknowledges anything. In WAL mode that is the fsync synchronous FULL would have done inside
// COMMIT: the frames of every transaction committed before the fsync started are on disk after it.
import fs from 'node:fs';
import path from 'node:path';

export class WalSync {
  private fd: number | null = null;
  private ino = 0;
  private inFlight = 0;
  /** Descriptors given up while an fsync on them ran: closed when it is done (never reused under it). */
  private retired: number[] = [];

  constructor(readonly walPath: string) {}

  /** fsyncs the WAL on the thread pool; `done(null)` means every earlier commit is durable. */
  sync(done: (err: Error | null) => void): void {
    let fd: number | null;
    try {
      fd = this.open();
    } catch (err) {
      done(err as Error);
      return;
    }
    if (fd === null) {
      done(null);
      return;
    }
    this.inFlight++;
    fs.fsync(fd, (err) => {
      this.inFlight--;
      if (this.inFlight === 0) this.closeRetired();
      done(err);
    });
  }

  /** The same, waiting (rare writes: commands, flush, close). */
  syncNow(): void {
    const fd = this.open();
    if (fd !== null) fs.fsyncSync(fd);
  }

  /** The connection was closed or replaced: the next WAL is a new file. */
  invalidate(): void {
    if (this.fd !== null) this.retired.push(this.fd);
    this.fd = null;
    this.ino = 0;
    if (this.inFlight === 0) this.closeRetired();
  }

  private closeRetired(): void {
    for (const fd of this.retired) {
      try {
        fs.closeSync(fd);
      } catch {
        // already gone with the file
      }
    }
    this.retired = [];
  }

  /** null: there is no WAL file (checkpointed and removed), so nothing waits in one. */
  private open(): number | null {
    const stat = fs.statSync(this.walPath, { throwIfNoEntry: false });
    if (!stat) return null;
    const ino = stat.ino;
    if (this.fd !== null && ino === this.ino) return this.fd;
    this.invalidate();
    this.fd = fs.openSync(this.walPath, 'r');
    this.ino = ino;
    // A new WAL file: its directory entry must survive power loss too.
    const dir = fs.openSync(path.dirname(this.walPath), 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
    return this.fd;
  }
}
