// Opens the store's file: migrates it, or moves an unreadable one aside and starts fresh.
import fs from 'node:fs';
import path from 'node:path';
import { Connection, type PragmaSettings } from './connection.js';
import { migrate } from './migrations.js';
import type { StoreLogger } from './types.js';

export const DB_FILE = 'spot-gateway.db';

export interface OpenedDatabase {
  conn: Connection;
  instanceId: string;
  /** Set when a previous file was moved aside. */
  movedAside: string | null;
}

function openAndMigrate(file: string, settings: PragmaSettings, randomUUID: () => string, now: number): {
  conn: Connection;
  instanceId: string;
} {
  const conn = new Connection(file, settings);
  try {
    const { from } = migrate(conn.raw);
    if (from === 0) {
      conn.stmt('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('created_at', new Date(now).toISOString());
    }
    conn.stmt('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('instance_id', randomUUID());
    const row = conn.stmt("SELECT value FROM meta WHERE key = 'instance_id'").get() as { value: string } | undefined;
    if (!row) throw new Error('meta table has no instance_id');
    return { conn, instanceId: row.value };
  } catch (err) {
    conn.close();
    throw err;
  }
}

/** The file, its WAL and shared memory keep SQLite's naming under the new name. */
function moveAside(file: string, walKept: string, now: number): string {
  const aside = `${file}.corrupt-${new Date(now).toISOString()}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, aside + suffix);
  }
  if (fs.existsSync(walKept)) fs.renameSync(walKept, `${aside}-wal`);
  return aside;
}

/** SQLite deletes a WAL it cannot use when the connection closes: keep a second name for it. */
function keepWal(file: string, walKept: string): void {
  try {
    fs.rmSync(walKept, { force: true });
    if (fs.existsSync(`${file}-wal`)) fs.linkSync(`${file}-wal`, walKept);
  } catch {
    // only a courtesy for the person inspecting a bad file later; opening must not depend on it
  }
}

/** The file itself is bad; a full disk or a read-only dir is not a reason to move a good file aside. */
function isUnreadableFile(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true;
  return !/^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|PERM|BUSY|LOCKED|NOMEM)/.test(code);
}

export function openDatabase(opts: {
  dataDir: string;
  settings: PragmaSettings;
  logger: StoreLogger;
  now: () => number;
  randomUUID: () => string;
}): OpenedDatabase {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const file = path.join(opts.dataDir, DB_FILE);
  const walKept = `${file}-wal.kept`;
  keepWal(file, walKept);
  try {
    const opened = openAndMigrate(file, opts.settings, opts.randomUUID, opts.now());
    fs.rmSync(walKept, { force: true });
    return { ...opened, movedAside: null };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (!isUnreadableFile(err)) {
      fs.rmSync(walKept, { force: true });
      throw new Error(`store: cannot open ${file}: ${reason}`, { cause: err });
    }
    const aside = moveAside(file, walKept, opts.now());
    opts.logger.error(
      { db: file, movedTo: aside, reason },
      `store: database ${file} cannot be opened (${reason}); moved aside to ${aside} and starting a fresh one`,
    );
    return { ...openAndMigrate(file, opts.settings, opts.randomUUID, opts.now()), movedAside: aside };
  }
}
