// Reading the buffer's history from another process (spot-gateway replay): the SQLite file opened
// read-only, which WAL allows while the gateway writes it (docs/storage.md, "Pruning and space").
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE } from './open-database.js';

export interface HistoryFacts {
  instanceId: string;
  /** buffer.retain the file was last opened with; null: a file from before retain (kept nothing). */
  retainMs: number | null;
  /** From when (unix ms) the file holds every event; null with retain 0. */
  historyFrom: number | null;
  /** When the file was made (a damaged file moved aside starts a new one). */
  createdAt: number | null;
}

export interface HistoryEvent {
  id: number;
  spot: string;
  resource: string;
  action: string;
  data: string;
  pb: Uint8Array | null;
  timeReceived: number;
}

export class HistoryReader {
  private readonly db: Database.Database;
  readonly file: string;

  /** Throws with the reason when the file is missing or not a buffer of this gateway. */
  constructor(dataDir: string) {
    this.file = path.join(dataDir, DB_FILE);
    try {
      this.db = new Database(this.file, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw new Error(`cannot open the buffer ${this.file} read-only: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.db.pragma('busy_timeout = 5000');
  }

  facts(): HistoryFacts {
    let rows: { key: string; value: string }[];
    try {
      rows = this.db.prepare("SELECT key, value FROM meta WHERE key IN ('instance_id', 'retain_ms', 'history_from', 'created_at')").all() as typeof rows;
    } catch (err) {
      throw new Error(`${this.file} is not a spot-gateway buffer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.keepOwner();
    const meta = new Map(rows.map((r) => [r.key, r.value]));
    const instanceId = meta.get('instance_id');
    if (instanceId === undefined) throw new Error(`${this.file} is not a spot-gateway buffer: it has no instance id`);
    const num = (key: string): number | null => (meta.has(key) ? Number(meta.get(key)) : null);
    const created = meta.get('created_at');
    return {
      instanceId,
      retainMs: num('retain_ms'),
      historyFrom: num('history_from'),
      createdAt: created === undefined ? null : Date.parse(created),
    };
  }

  /**
   * Up to `limit` events received in [since, until) with id above `afterId`, in id order (the
   * order the forwarder sends them in per spot). One short read each: WAL checkpoints of the
   * running gateway are not held back for the whole replay.
   */
  page(range: { since: number; until: number; spot?: string }, afterId: number, limit: number): HistoryEvent[] {
    const bySpot = range.spot !== undefined;
    const sql = `SELECT id, spot, resource, action, data, pb, time_received AS timeReceived FROM events WHERE id > ? AND time_received >= ? AND time_received < ?${bySpot ? ' AND spot = ?' : ''} ORDER BY id LIMIT ?`;
    const params: unknown[] = bySpot ? [afterId, range.since, range.until, range.spot, limit] : [afterId, range.since, range.until, limit];
    return this.db.prepare(sql).all(...params) as HistoryEvent[];
  }

  /**
   * A read-only connection creates the -wal and -shm files when the gateway is not running; made
   * by root they would keep the gateway (its own user) from opening the buffer: they get the
   * database file's owner.
   */
  private keepOwner(): void {
    const owner = fs.statSync(this.file);
    for (const suffix of ['-wal', '-shm']) {
      try {
        const st = fs.statSync(this.file + suffix);
        if (st.uid !== owner.uid || st.gid !== owner.gid) fs.chownSync(this.file + suffix, owner.uid, owner.gid);
      } catch {
        // Not there, or not ours to change (not root): nothing to do.
      }
    }
  }

  close(): void {
    this.db.close();
  }
}
