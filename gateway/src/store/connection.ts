// One SQLite connection with its pragmas and a statement cache that survives reopening.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Durability } from './types.js';
import { WalSync } from './wal-sync.js';

export interface PragmaSettings {
  durability: Durability;
  /** Pages after which SQLite checkpoints the WAL by itself. */
  walAutocheckpointPages: number;
  /** Bytes the WAL file is truncated to after a checkpoint. */
  journalSizeLimit: number;
}

const BUSY_TIMEOUT_MS = 100;
// `full` is NORMAL plus the store's own fsync of the WAL before acknowledging (wal-sync.ts).
const SYNCHRONOUS: Record<Durability, string> = { full: 'NORMAL', normal: 'NORMAL', off: 'OFF' };

export class Connection {
  private db: Database.Database;
  private statements = new Map<string, Database.Statement>();
  /** Inode of the file this connection opened: another one at the path means it was replaced. */
  private inode = 0;
  /** Set for durability `full`: what is acknowledged must have been through walSync. */
  readonly walSync: WalSync | null;

  constructor(
    readonly path: string,
    private readonly settings: PragmaSettings,
  ) {
    this.walSync = settings.durability === 'full' ? new WalSync(`${path}-wal`) : null;
    this.db = this.open();
  }

  private open(): Database.Database {
    // One writer in the process; a short busy wait only covers a person's sqlite3 shell holding a lock.
    const db = new Database(this.path, { timeout: BUSY_TIMEOUT_MS });
    try {
      // Reading the version first makes a garbage file fail here, before anything is written.
      const version = db.pragma('user_version', { simple: true }) as number;
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number };
      if (version === 0 && tables.n === 0) db.pragma('auto_vacuum = INCREMENTAL');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`cannot switch to WAL (journal_mode is ${String(mode)})`);
      db.pragma(`synchronous = ${SYNCHRONOUS[this.settings.durability]}`);
      db.pragma(`wal_autocheckpoint = ${this.settings.walAutocheckpointPages}`);
      db.pragma(`journal_size_limit = ${this.settings.journalSizeLimit}`);
      db.pragma('temp_store = MEMORY');
      this.inode = inodeOf(this.path);
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  get raw(): Database.Database {
    return this.db;
  }

  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  /** SQLite may not recover from some I/O errors on the same connection: start a new one. */
  reopen(): void {
    // Open the new one first: if that fails, reads keep working on the old one.
    const fresh = this.open();
    this.statements.clear();
    this.walSync?.invalidate();
    try {
      this.db.close();
    } catch {
      // the old connection is being replaced either way
    }
    this.db = fresh;
  }

  /** Closes, lets `moveFiles` move the files away, and opens a fresh file at the same path. */
  replaceFile<T>(moveFiles: () => T): T {
    this.statements.clear();
    this.walSync?.invalidate();
    try {
      this.db.close();
    } catch {
      // a damaged file may not close cleanly; it is being moved away
    }
    const result = moveFiles();
    this.db = this.open();
    return result;
  }

  /** The file at the path is not the one this connection has open any more (replaced or deleted). */
  fileReplaced(): boolean {
    return inodeOf(this.path) !== this.inode;
  }

  /**
   * Writes the open database (whose file was replaced or deleted under it) back to its path;
   * `moveForeign` first takes away whatever file now sits there.
   */
  restoreFile<T>(moveForeign: () => T): T {
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    const copy = `${this.path}.restoring`;
    fs.rmSync(copy, { force: true });
    this.db.prepare('VACUUM INTO ?').run(copy);
    const result = moveForeign();
    this.statements.clear();
    this.walSync?.invalidate();
    // Closing checkpoints into the orphaned file and removes our -wal and -shm by name.
    this.db.close();
    fs.renameSync(copy, this.path);
    this.db = this.open();
    return result;
  }

  close(): void {
    this.statements.clear();
    this.walSync?.invalidate();
    if (this.db.open) this.db.close();
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Bytes of pages holding data: free pages are reused before the file grows. */
  liveBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * size;
  }

  pageCount(): number {
    return this.db.pragma('page_count', { simple: true }) as number;
  }

  freePages(): number {
    return this.db.pragma('freelist_count', { simple: true }) as number;
  }

  pageSize(): number {
    return this.db.pragma('page_size', { simple: true }) as number;
  }

  walBytes(): number {
    return fileSize(`${this.path}-wal`);
  }

  /** Database file + WAL as the file system sees them. */
  diskBytes(): number {
    return fileSize(this.path) + this.walBytes();
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function inodeOf(file: string): number {
  try {
    return fs.statSync(file).ino;
  } catch {
    return 0;
  }
}
