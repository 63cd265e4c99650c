// Opens the store's file: migrates and loads it, or moves an unreadable one aside and starts fresh.
import fs from 'node:fs';
import path from 'node:path';
import { Connection, type PragmaSettings } from './connection.js';
import { migrate } from './migrations.js';
import type { StoreLogger } from './types.js';

export const DB_FILE = 'spot-gateway.db';

export interface OpenedDatabase<T> {
  conn: Connection;
  instanceId: string;
  /** Set when a previous file was moved aside. */
  movedAside: string | null;
  /** What `load` built from the file. */
  loaded: T;
}

/** Migrates and fills `meta`; returns the file's instance id. */
export function prepareSchema(conn: Connection, now: number, newInstanceId: () => string): string {
  const { from } = migrate(conn.raw);
  if (from === 0) {
    conn.stmt('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('created_at', new Date(now).toISOString());
  }
  conn.stmt('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('instance_id', newInstanceId());
  const row = conn.stmt("SELECT value FROM meta WHERE key = 'instance_id'").get() as { value: string } | undefined;
  if (!row) throw new Error('meta table has no instance_id');
  return row.value;
}

function openAndLoad<T>(
  file: string,
  settings: PragmaSettings,
  randomUUID: () => string,
  now: number,
  load: (conn: Connection) => T,
): { conn: Connection; instanceId: string; loaded: T } {
  const conn = new Connection(file, settings);
  try {
    const instanceId = prepareSchema(conn, now, randomUUID);
    return { conn, instanceId, loaded: load(conn) };
  } catch (err) {
    conn.close();
    throw err;
  }
}

/** The file, its WAL and shared memory keep SQLite's naming under the new name. */
export function moveAside(file: string, now: number, walKept?: string): string {
  const aside = `${file}.corrupt-${new Date(now).toISOString()}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, aside + suffix);
  }
  if (walKept && fs.existsSync(walKept)) fs.renameSync(walKept, `${aside}-wal`);
  return aside;
}

/** Only the main file: the -wal and -shm at the path still belong to the open connection. */
export function moveMainFileAside(file: string, now: number): string | null {
  if (!fs.existsSync(file)) return null;
  const aside = `${file}.foreign-${new Date(now).toISOString()}`;
  fs.renameSync(file, aside);
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

/** Damage in the file itself (as opposed to a full disk or a read-only dir, where the file is fine). */
export function isDamagedFile(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true;
  return !/^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|PERM|BUSY|LOCKED|NOMEM)/.test(code);
}

export function openDatabase<T>(
  opts: {
    dataDir: string;
    settings: PragmaSettings;
    logger: StoreLogger;
    now: () => number;
    randomUUID: () => string;
  },
  load: (conn: Connection) => T,
): OpenedDatabase<T> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const file = path.join(opts.dataDir, DB_FILE);
  const walKept = `${file}-wal.kept`;
  keepWal(file, walKept);
  try {
    const opened = openAndLoad(file, opts.settings, opts.randomUUID, opts.now(), load);
    fs.rmSync(walKept, { force: true });
    return { ...opened, movedAside: null };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (!isDamagedFile(err)) {
      fs.rmSync(walKept, { force: true });
      throw new Error(`store: cannot open ${file}: ${reason}`, { cause: err });
    }
    const aside = moveAside(file, opts.now(), walKept);
    opts.logger.error(
      { db: file, movedTo: aside, reason },
      `store: database ${file} cannot be opened (${reason}); moved aside to ${aside} and starting a fresh one`,
    );
    return { ...openAndLoad(file, opts.settings, opts.randomUUID, opts.now(), load), movedAside: aside };
  }
}

/**
 * Damage found while running: the file goes aside and a fresh one continues with the same
 * instance id and an id sequence above every id handed out, so stable event ids stay unique.
 */
export function rebuildDatabase(conn: Connection, opts: { instanceId: string; lastEventId: number; now: number }): string {
  const aside = conn.replaceFile(() => moveAside(conn.path, opts.now));
  prepareSchema(conn, opts.now, () => opts.instanceId);
  // sqlite_sequence exists once a table with AUTOINCREMENT does.
  conn.stmt("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)").run(opts.lastEventId);
  return aside;
}
