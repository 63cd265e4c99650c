// Forgetting spots that have been silent long (spots.forget_after_s) and have nothing pending: their
// registry row, cursors, numbering and in-memory state go; stored events stay (docs/storage.md).
import type { Backlog } from './backlog.js';
import type { Connection } from './connection.js';
import type { CursorBook } from './cursors.js';
import type { EventLog } from './event-log.js';
import type { Retention } from './retention.js';
import type { SpotTable } from './spot-registry.js';
import type { ForgetResult } from './types.js';

/** Registry rows looked at per step (by serial, going round): a step costs a few ms at most. */
export const FORGET_SCAN_ROWS = 2000;
/** Spots forgotten at most per step (one transaction). */
export const FORGET_MAX_PER_STEP = 500;

export interface ForgetParts {
  conn: Connection;
  log: EventLog;
  cursors: CursorBook;
  backlog: Backlog;
  retention: Retention;
  spots: SpotTable;
  /** Runs the deletes in their own committed transaction (throws StoreUnavailableError). */
  durably: <T>(write: () => T) => T;
}

export class SpotForgetter {
  /** Where the next step goes on in the registry, by serial ('' = from the start). */
  private after = '';

  constructor(private readonly p: ForgetParts) {}

  /**
   * Looks at the next FORGET_SCAN_ROWS registry rows and forgets those last seen at or before
   * `silentSince` with nothing pending for any upstream, no queued command and (with upstreams)
   * no stored event.
   */
  step(silentSince: number): ForgetResult {
    const { conn } = this.p;
    const rows = conn
      .stmt('SELECT serial, last_seen FROM spots WHERE serial > ? ORDER BY serial LIMIT ?')
      .raw()
      .all(this.after, FORGET_SCAN_ROWS) as [string, number][];
    this.after = rows.length < FORGET_SCAN_ROWS ? '' : rows[rows.length - 1]![0];
    const lowestId = this.p.log.lowestId();
    const chosen: string[] = [];
    for (const [serial, lastSeen] of rows) {
      if (chosen.length >= FORGET_MAX_PER_STEP) break;
      if (lastSeen <= silentSince && this.forgettable(serial, silentSince, lowestId)) chosen.push(serial);
    }
    if (chosen.length > 0) {
      this.p.durably(() => this.deleteRows(chosen));
      for (const serial of chosen) this.forgetInMemory(serial);
    }
    return { scanned: rows.length, forgotten: chosen };
  }

  private forgettable(serial: string, silentSince: number, lowestId: number | null): boolean {
    const { log, backlog, spots, conn } = this.p;
    // Memory is the registry's truth (the row may be up to 50 ms behind).
    const lastSeen = spots.lastSeenOf(serial);
    if (lastSeen === null || lastSeen > silentSince) return false;
    if (backlog.has(serial)) return false;
    if (conn.stmt("SELECT 1 FROM commands WHERE spot = ? AND state = 'queued' LIMIT 1").get(serial) !== undefined) return false;
    // With upstreams its cursors go too: an event still stored would be forwarded again if it came back.
    return this.p.cursors.upstreams.length === 0 || !log.hasEvents(serial, lowestId);
  }

  private deleteRows(serials: string[]): void {
    const { conn } = this.p;
    const numbering = conn.stmt('SELECT duplicates FROM spot_numbering WHERE spot = ?').pluck();
    const deletes = ['DELETE FROM spots WHERE serial = ?', 'DELETE FROM cursors WHERE spot = ?', 'DELETE FROM spot_numbering WHERE spot = ?'].map(
      (sql) => conn.stmt(sql),
    );
    let duplicates = 0;
    for (const serial of serials) {
      duplicates += Number(numbering.get(serial) ?? 0);
      for (const d of deletes) d.run(serial);
    }
    // The duplicates total (status().duplicates) counts those of forgotten spots too.
    if (duplicates > 0) {
      conn
        .stmt(
          `INSERT INTO meta (key, value) VALUES ('forgotten_duplicates', ?)
           ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER)`,
        )
        .run(String(duplicates));
    }
  }

  private forgetInMemory(serial: string): void {
    this.p.spots.forget(serial);
    this.p.cursors.forget(serial);
    this.p.log.forget(serial);
    this.p.retention.forget(serial);
  }
}
