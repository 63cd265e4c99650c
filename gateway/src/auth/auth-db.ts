// auth.db: spot tokens, users, sessions and API keys, in an SQLite file of its own in the data dir (docs/security.md).
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const AUTH_DB_FILE = 'auth.db';

type Migration = (db: Database.Database) => void;

const MIGRATIONS: Migration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE spot_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        spot TEXT,
        digest BLOB NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created INTEGER NOT NULL,
        revoked INTEGER
      );
      CREATE INDEX spot_tokens_spot ON spot_tokens (spot) WHERE revoked IS NULL;
      CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'admin')),
        password TEXT NOT NULL,
        created INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE sessions (
        digest BLOB PRIMARY KEY,
        user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        created INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'admin')),
        digest BLOB NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created INTEGER NOT NULL,
        revoked INTEGER,
        last_used INTEGER
      );
    `),
];

export class AuthDbError extends Error {}

/**
 * Opens (creating if missing) <dataDir>/auth.db and migrates it. Throws AuthDbError with the file and the
 * reason when it cannot: credentials are never replaced by an empty file.
 */
export function openAuthDb(dataDir: string): Database.Database {
  const file = path.join(dataDir, AUTH_DB_FILE);
  const fresh = !existsSync(file);
  let db: Database.Database | null = null;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new Database(file);
    if (fresh) chmodSync(file, 0o600);
    db.pragma('journal_mode = WAL');
    // The CLI and the gateway write the same file: a writer waits for the other instead of failing.
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) throw new Error(`schema version ${version} is newer than this gateway knows (${MIGRATIONS.length})`);
    for (let v = version; v < MIGRATIONS.length; v++) {
      const conn = db;
      conn.transaction(() => {
        MIGRATIONS[v]!(conn);
        conn.pragma(`user_version = ${v + 1}`);
      })();
    }
    return db;
  } catch (err) {
    db?.close();
    throw new AuthDbError(`${file}: ${(err as Error).message}`);
  }
}
