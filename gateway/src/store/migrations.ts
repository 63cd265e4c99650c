// Versioned schema: PRAGMA user_version = number of migrations applied.
import type Database from 'better-sqlite3';

export type Migration = (db: Database.Database) => void;

function createEventLog(db: Database.Database): void {
  db.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      spot TEXT NOT NULL,
      resource TEXT NOT NULL,
      action TEXT NOT NULL,
      data TEXT NOT NULL,
      pb BLOB,
      encoding TEXT NOT NULL CHECK (encoding IN ('json', 'pb')),
      time_received INTEGER NOT NULL,
      boot INTEGER,
      seq INTEGER,
      size INTEGER NOT NULL
    );
    CREATE INDEX events_spot_id ON events (spot, id);
    CREATE TABLE spot_numbering (
      spot TEXT PRIMARY KEY,
      boot INTEGER NOT NULL,
      high_seq INTEGER NOT NULL,
      duplicates INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE cursors (
      upstream TEXT NOT NULL,
      spot TEXT NOT NULL,
      last_id INTEGER NOT NULL,
      PRIMARY KEY (upstream, spot)
    ) WITHOUT ROWID;
  `);
}

function createCommandsAndRegistry(db: Database.Database): void {
  db.exec(`
    CREATE TABLE commands (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      spot TEXT NOT NULL,
      resource TEXT NOT NULL,
      action TEXT NOT NULL,
      data TEXT NOT NULL,
      source TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'expired', 'failed')),
      time_queued INTEGER NOT NULL,
      time_delivered INTEGER,
      time_expires INTEGER NOT NULL,
      time_failed INTEGER
    );
    CREATE INDEX commands_queued ON commands (spot, id) WHERE state = 'queued';
    CREATE INDEX commands_expiry ON commands (time_expires) WHERE state = 'queued';
    CREATE INDEX commands_spot ON commands (spot, id);
    CREATE TABLE spots (
      serial TEXT PRIMARY KEY,
      firmware_version TEXT,
      first_seen INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      posts INTEGER NOT NULL DEFAULT 0,
      events INTEGER NOT NULL DEFAULT 0,
      rejected INTEGER NOT NULL DEFAULT 0,
      duplicates INTEGER NOT NULL DEFAULT 0,
      spot_create TEXT,
      config_create TEXT,
      config TEXT
    ) WITHOUT ROWID;
    CREATE TABLE rejected (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      spot TEXT NOT NULL,
      raw BLOB NOT NULL,
      reason TEXT NOT NULL,
      offset INTEGER NOT NULL,
      time INTEGER NOT NULL
    );
    CREATE INDEX rejected_spot ON rejected (spot, id);
  `);
}

/**
 * The per-spot index leaves the events table: an index on events(spot, id) had every commit
 * write one index page per spot in it (most of the WAL at one event per chunk). event_spots is
 * written about once a second, spot by spot (spot-index.ts).
 */
function spotIndexTable(db: Database.Database): void {
  db.exec(`
    CREATE TABLE event_spots (spot TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (spot, id)) WITHOUT ROWID;
    INSERT INTO event_spots (spot, id) SELECT spot, id FROM events;
    INSERT INTO meta (key, value) SELECT 'spot_index_upto', coalesce(max(id), 0) FROM events;
    DROP INDEX events_spot_id;
  `);
}

/** Replies cut off per command, in the file: counted in memory before, a restart began them anew. */
function commandCutReplies(db: Database.Database): void {
  db.exec('ALTER TABLE commands ADD COLUMN cut_replies INTEGER NOT NULL DEFAULT 0');
}

/** Poison events an upstream moved aside, and the one it suspects now (quarantine.ts). */
function quarantineTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE quarantine (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      upstream TEXT NOT NULL,
      event_id INTEGER NOT NULL,
      spot TEXT NOT NULL,
      resource TEXT NOT NULL,
      action TEXT NOT NULL,
      data TEXT NOT NULL,
      pb BLOB,
      encoding TEXT NOT NULL,
      time_received INTEGER NOT NULL,
      reason TEXT NOT NULL,
      strikes INTEGER NOT NULL,
      time INTEGER NOT NULL,
      resends INTEGER NOT NULL DEFAULT 0,
      last_resend_at INTEGER,
      UNIQUE (upstream, event_id)
    );
    CREATE TABLE poison_suspects (
      upstream TEXT PRIMARY KEY,
      spot TEXT NOT NULL,
      event_id INTEGER NOT NULL,
      strikes INTEGER NOT NULL,
      since INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
}

/** Commit-time marks bounding how far retention may prune (retention-marks.ts). */
function retainMarksTable(db: Database.Database): void {
  db.exec('CREATE TABLE retain_marks (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, upto INTEGER NOT NULL)');
}

/** In order; index i brings a file from user_version i to i + 1. Only ever append. */
export const migrations: readonly Migration[] = [
  createEventLog,
  createCommandsAndRegistry,
  spotIndexTable,
  commandCutReplies,
  quarantineTables,
  retainMarksTable,
];

export const SCHEMA_VERSION = migrations.length;

/** Runs every migration above the file's version, each with its version bump in one transaction. */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > list.length) {
    throw new Error(`schema version ${from} is newer than this gateway knows (${list.length})`);
  }
  for (let v = from; v < list.length; v++) {
    const step = list[v]!;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return { from, to: list.length };
}
