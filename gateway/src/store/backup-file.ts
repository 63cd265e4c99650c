// A backup of the store as a file: made self-contained after the copy, and checked before a restore
// (docs/operations.md, "Backup and restore").
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from './migrations.js';

export interface DatabaseFacts {
  /** PRAGMA user_version: the migrations applied. */
  schemaVersion: number;
  instanceId: string;
  /** Highest event id handed out (sqlite_sequence), 0 for none. */
  lastEventId: number;
  events: number;
}

/** A file that is not a spot-gateway database this gateway can run on; `message` says why. */
export class BackupFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFileError';
  }
}

function factsOf(db: Database.Database, file: string): DatabaseFacts {
  const schemaVersion = db.pragma('user_version', { simple: true }) as number;
  const tables = new Set((db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
  if (schemaVersion < 1 || !tables.has('meta') || !tables.has('events')) {
    throw new BackupFileError(`${file} is an SQLite database but not a spot-gateway one (schema version ${schemaVersion}, no meta/events tables)`);
  }
  if (schemaVersion > SCHEMA_VERSION) {
    throw new BackupFileError(`${file} has schema version ${schemaVersion}, newer than this gateway knows (${SCHEMA_VERSION}): restore it with the gateway version that made it`);
  }
  const instance = db.prepare("SELECT value FROM meta WHERE key = 'instance_id'").get() as { value: string } | undefined;
  if (!instance) throw new BackupFileError(`${file} has no instance id in its meta table: not a spot-gateway database`);
  const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
  const count = db.prepare('SELECT count(*) AS n FROM events').get() as { n: number };
  return { schemaVersion, instanceId: instance.value, lastEventId: seq?.seq ?? 0, events: count.n };
}

function open(file: string, readonly: boolean): Database.Database {
  try {
    return new Database(file, { readonly, fileMustExist: true });
  } catch (err) {
    throw new BackupFileError(`${file}: cannot open (${(err as Error).message})`);
  }
}

/**
 * A fresh backup: switched out of WAL mode (one file, no -wal or -shm beside it) and described.
 * Runs on the copy only; the live database is not touched.
 */
export function settleBackup(file: string): DatabaseFacts {
  const db = open(file, false);
  try {
    db.pragma('journal_mode = DELETE');
    return factsOf(db, file);
  } finally {
    db.close();
  }
}

/**
 * Checks a file before it replaces the live database: SQLite's integrity_check passes, and it is a
 * spot-gateway database of a schema version this gateway can open. Throws BackupFileError.
 */
export function checkBackup(file: string): DatabaseFacts {
  const db = open(file, true);
  try {
    let problems: string[];
    try {
      problems = (db.pragma('integrity_check(5)') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
    } catch (err) {
      throw new BackupFileError(`${file} is not an SQLite database (${(err as Error).message})`);
    }
    if (problems.length !== 1 || problems[0] !== 'ok') throw new BackupFileError(`${file} fails SQLite's integrity check: ${problems.join('; ')}`);
    return factsOf(db, file);
  } finally {
    db.close();
  }
}

/**
 * Whether a process has the database open: the gateway keeps it open in WAL mode, which holds a
 * shared lock on the file for as long as the connection lives; an exclusive lock is then refused.
 * The kernel drops the lock with the process, so a crashed gateway leaves nothing stale.
 * On success the database is closed again checkpointed (its WAL folded into the main file).
 */
export function databaseInUse(file: string): boolean | 'unreadable' {
  const db = new Database(file, { fileMustExist: true, timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    return false;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_BUSY') return true;
    // A gateway never runs on a file it cannot read: it moves such a file aside when it opens it or finds the damage.
    if (code === 'SQLITE_NOTADB' || code?.startsWith('SQLITE_CORRUPT') === true) return 'unreadable';
    throw err;
  } finally {
    db.close();
  }
}

/** The highest event id a database file has handed out (0 when it cannot be read): a restore continues above it. */
export function lastEventIdOf(file: string): number {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
      return seq?.seq ?? 0;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** Raises the event id sequence of `file` so that new events get ids above `lastEventId` (stable ids stay unique). */
export function continueIdsAbove(file: string, lastEventId: number): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'events'").run(lastEventId);
    db.prepare("INSERT INTO sqlite_sequence (name, seq) SELECT 'events', ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events')").run(lastEventId);
  } finally {
    db.close();
  }
}
